import PixCore

/// The content address of a stored image: its SHA-256 and its format.
///
/// Keys are built from validated values only (never from a remote file name), so the path they
/// map to, `images/ab/cd/<sha256>.<ext>`, cannot escape the store's root.
public struct BlobKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// SHA-256 of the content: 64 lowercase hex digits.
    public let sha256: String
    /// Format of the content; gives the file extension.
    public let format: ImageFormat

    /// Creates a key.
    /// - Parameters:
    ///   - sha256: 64 lowercase hex digits.
    ///   - format: the sniffed format.
    /// - Throws: ``BlobStoreError/Code/invalidKey`` when `sha256` is not 64 lowercase hex digits.
    public init(sha256: String, format: ImageFormat) throws(BlobStoreError) {
        guard Self.isValidDigest(sha256) else {
            throw BlobStoreError(
                code: .invalidKey,
                message: "sha256 must be 64 lowercase hex digits, got \(sha256.debugDescription.prefix(80))")
        }
        self.sha256 = sha256
        self.format = format
    }

    /// Parses a relative blob path, `images/ab/cd/<sha256>.<ext>`, as ``path`` produces it.
    /// - Throws: ``BlobStoreError/Code/invalidKey`` for anything else.
    public init(path: String) throws(BlobStoreError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let invalid = BlobStoreError(code: .invalidKey, message: "not a blob path: \(path.debugDescription.prefix(200))")
        guard parts.count == 4, parts[0] == "images" else { throw invalid }
        let name = parts[3].split(separator: ".", omittingEmptySubsequences: false)
        guard name.count == 2, let format = ImageFormat.allCases.first(where: { $0.fileExtension == name[1] }) else {
            throw invalid
        }
        let key = try BlobKey(sha256: String(name[0]), format: format)
        guard key.path == path else { throw invalid }
        self = key
    }

    /// `<sha256>.<ext>`.
    public var filename: String { "\(sha256).\(format.fileExtension)" }

    /// `images/ab/cd/<sha256>.<ext>`: the first two bytes of the hash fan the files out over directories.
    public var path: String { "\(directory)/\(filename)" }

    /// `images/ab/cd`.
    public var directory: String {
        let digits = Array(sha256.utf8)
        return "images/\(String(decoding: digits[0..<2], as: UTF8.self))/\(String(decoding: digits[2..<4], as: UTF8.self))"
    }

    public var description: String { path }

    public static func < (lhs: BlobKey, rhs: BlobKey) -> Bool { lhs.path < rhs.path }

    /// True for 64 lowercase hex digits.
    public static func isValidDigest(_ value: String) -> Bool {
        let utf8 = value.utf8
        return utf8.count == 64 && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
