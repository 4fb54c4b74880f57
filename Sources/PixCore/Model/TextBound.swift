/// A bound on a text field: its length in Unicode scalars (as JSON Schema's `minLength`/`maxLength` count them)
/// and, optionally, that it is not blank. Entry points check text against it and the API document states it,
/// from the same value.
public struct TextBound: Sendable, Hashable {
    /// Accepted lengths, in Unicode scalars.
    public var length: ClosedRange<Int>
    /// Whether the text must hold at least one scalar that is not white space.
    public var nonBlank: Bool

    /// - Parameters:
    ///   - length: accepted lengths, in Unicode scalars.
    ///   - nonBlank: whether white space alone is refused.
    public init(length: ClosedRange<Int>, nonBlank: Bool = false) {
        self.length = length
        self.nonBlank = nonBlank
    }

    /// The white space a blank text consists of: the scalars of Python's `str.isspace()` (Unicode's White_Space
    /// plus the information separators U+001C–U+001F), so `\S`-style patterns and this check agree.
    public static let whiteSpace: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x1C...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ]

    /// Whether `scalar` is white space in the sense of ``whiteSpace``.
    public static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        whiteSpace.contains { $0.contains(scalar.value) }
    }

    /// A regular expression that matches a text with at least one scalar that is not white space.
    public static var nonBlankPattern: String {
        func escaped(_ value: UInt32) -> String {
            let hex = String(value, radix: 16)
            return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        let ranges = whiteSpace.map { range in
            range.count == 1 ? escaped(range.lowerBound) : escaped(range.lowerBound) + "-" + escaped(range.upperBound)
        }
        return "[^" + ranges.joined() + "]"
    }

    /// Why `text` is refused, or `nil` when it is within the bound.
    public func problem(_ text: String) -> String? {
        let count = text.unicodeScalars.count
        guard length.contains(count) else {
            return length.lowerBound == 0
                ? "must be at most \(length.upperBound) characters"
                : "must be \(length.lowerBound) to \(length.upperBound) characters"
        }
        if nonBlank, !text.unicodeScalars.contains(where: { !Self.isWhiteSpace($0) }) {
            return "must not be blank"
        }
        return nil
    }
}
