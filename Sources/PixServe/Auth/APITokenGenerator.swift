import Crypto
import Foundation

/// A freshly generated API token: shown to its owner once, stored only as ``hash``.
public struct GeneratedToken: Sendable, Hashable {
    /// The secret itself: `pxc_` and 43 base64url characters (256 random bits).
    public let token: String
    /// Lowercase hex SHA-256 of ``token``: what the store keeps.
    public let hash: String
    /// The first characters of ``token``, to tell tokens apart in lists.
    public let prefix: String
}

/// Creates and hashes API tokens and download tokens.
public enum APITokenGenerator {
    /// The marker every API token starts with.
    public static let scheme = "pxc_"

    /// A new token with 256 bits from the system's cryptographically secure generator.
    public static func generate(scheme: String = APITokenGenerator.scheme) -> GeneratedToken {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = scheme + base64URL(bytes)
        return GeneratedToken(token: token, hash: hash(token), prefix: String(token.prefix(scheme.count + 8)))
    }

    /// Lowercase hex SHA-256 of a token, as the store keeps it.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// True when `token` could be a token this generator made (cheap check before any lookup).
    public static func isWellFormed(_ token: String, scheme: String = APITokenGenerator.scheme) -> Bool {
        guard token.hasPrefix(scheme), token.utf8.count == scheme.utf8.count + 43 else { return false }
        return token.utf8.dropFirst(scheme.utf8.count).allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
