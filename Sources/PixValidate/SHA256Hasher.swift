import Crypto
import Foundation

/// SHA-256 of content, fed incrementally while the bytes stream in, as lowercase hex.
///
/// ```swift
/// var hasher = SHA256Hasher()
/// for chunk in body { hasher.update(chunk) }
/// let sha256 = hasher.finalizeHex()  // 64 lowercase hex digits
/// ```
// Sendability enforced through copy-on-write semantics of swift-crypto's digest state.
public struct SHA256Hasher: @unchecked Sendable {
    private var hasher = SHA256()
    /// Bytes fed so far.
    public private(set) var byteCount = 0

    /// Creates a hasher with no input.
    public init() {}

    /// Feeds the next bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        byteCount += bytes.count
    }

    /// Feeds the next bytes.
    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far, as 64 lowercase hex digits. The hasher can keep going.
    public func finalizeHex() -> String {
        Self.hex(hasher.finalize())
    }

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func hex(of bytes: some ContiguousBytes) -> String {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return digest.withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: raw.count * 2) { out in
                for (index, byte) in raw.enumerated() {
                    out[index * 2] = digits[Int(byte >> 4)]
                    out[index * 2 + 1] = digits[Int(byte & 0x0F)]
                }
                return raw.count * 2
            }
        }
    }
}
