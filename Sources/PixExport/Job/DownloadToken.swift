import Crypto

/// The secret that unlocks one download record: 256 random bits, shown to the user once.
///
/// Only ``hash`` (SHA-256 of the token's UTF-8 text, lowercase hex) is stored. ``description`` shows a
/// redacted form, so a token logged by accident is not usable.
public struct DownloadToken: Sendable, Hashable, CustomStringConvertible {
    /// The token text: `pxd_` followed by 43 base64url characters.
    public let value: String

    /// The prefix every token starts with.
    public static let prefix = "pxd_"

    /// Wraps a token given by a user.
    /// - Parameter value: The token text.
    public init(_ value: String) {
        self.value = value.trimmingWhitespace()
    }

    /// A fresh token from the system's cryptographically secure generator.
    public static func generate() -> DownloadToken {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return DownloadToken(prefix + Base64URL.encode(bytes))
    }

    /// The SHA-256 of the token, as the store keeps it.
    public var hash: String { Self.hash(of: value) }

    /// The SHA-256 of a token's UTF-8 text, 64 lowercase hex digits.
    /// - Parameter token: The token text.
    public static func hash(of token: String) -> String {
        Hex.string(SHA256.hash(data: Array(token.utf8)))
    }

    /// The token with everything after its first characters hidden.
    public var description: String { String(value.prefix(8)) + "…" }
}

/// Base64url without padding (RFC 4648 §5).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [18, 12, 6, 0].map { alphabet[Int((value >> $0) & 63)] }
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            out += [18, 12].map { alphabet[Int((value >> $0) & 63)] }
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [18, 12, 6].map { alphabet[Int((value >> $0) & 63)] }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
