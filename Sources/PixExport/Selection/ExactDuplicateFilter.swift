/// Remembers SHA-256 digests so an image with the same bytes is exported once.
///
/// Memory is about 32 bytes plus set overhead per distinct digest.
public struct ExactDuplicateFilter: Sendable {
    private struct Digest: Hashable, Sendable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64
    }

    private var digests: Set<Digest> = []
    private var others: Set<String> = []

    /// Creates an empty filter.
    public init() {}

    /// Distinct digests seen so far.
    public var count: Int { digests.count + others.count }

    /// Records a digest.
    /// - Parameter sha256: The image's SHA-256 as hex (either case).
    /// - Returns: `true` the first time a digest is seen (export the image), `false` afterwards.
    public mutating func insert(sha256: String) -> Bool {
        if let digest = Self.parse(sha256) { return digests.insert(digest).inserted }
        return others.insert(sha256.lowercased()).inserted
    }

    private static func parse(_ hex: String) -> Digest? {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var words: [UInt64] = []
        words.reserveCapacity(4)
        for word in 0..<4 {
            var value: UInt64 = 0
            for byte in bytes[(word * 16)..<(word * 16 + 16)] {
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt64(nibble)
            }
            words.append(value)
        }
        return Digest(a: words[0], b: words[1], c: words[2], d: words[3])
    }
}
