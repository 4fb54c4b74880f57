/// Why ``ImageDecoder`` could not read or decode an image.
public struct ImageDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; compare with the static members (`error.code == .corrupt`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case corrupt, tooLarge, outOfMemory, unsupportedFormat, invalidArgument
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The data is truncated or damaged (a CRC error, premature end, a bad Huffman code, …).
        public static let corrupt = Code(.corrupt)
        /// The declared dimensions exceed the caller's limits; nothing was decoded.
        public static let tooLarge = Code(.tooLarge)
        /// The decoder needed more memory than it was allowed or could get.
        public static let outOfMemory = Code(.outOfMemory)
        /// The format is not one PixCrawler decodes (only JPEG, PNG and WebP are).
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// The call itself was wrong (an empty buffer, a zero-sized grid).
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String {
            switch base {
            case .corrupt: "corrupt"
            case .tooLarge: "too large"
            case .outOfMemory: "out of memory"
            case .unsupportedFormat: "unsupported format"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What the decoder reported, e.g. `Premature end of JPEG file` or `IDAT: CRC error`.
    public let message: String

    /// Creates an error of kind `code` with the decoder's `message`.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "image \(code): \(message)" }
}
