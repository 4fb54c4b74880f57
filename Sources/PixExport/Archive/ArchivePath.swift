/// Checks of archive entry paths, shared by every writer.
enum ArchivePath {
    /// Longest accepted path in UTF-8 bytes (a ZIP name length is a 16-bit field).
    static let maximumByteCount = 65_535

    /// Validates `path` and returns its UTF-8 bytes.
    static func validate(_ path: String) throws -> [UInt8] {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { throw ExportError.invalidEntryPath(path, "it is empty") }
        guard bytes.count <= maximumByteCount else {
            throw ExportError.invalidEntryPath(path, "it is longer than \(maximumByteCount) bytes")
        }
        guard bytes.first != UInt8(ascii: "/") else { throw ExportError.invalidEntryPath(path, "it is absolute") }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw ExportError.invalidEntryPath(path, "it contains a control character")
        }
        if bytes.contains(UInt8(ascii: "\\")) {
            throw ExportError.invalidEntryPath(path, "it contains a backslash")
        }
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty {
                throw ExportError.invalidEntryPath(path, "it has an empty component or a trailing '/'")
            }
            if component.elementsEqual([UInt8(ascii: ".")]) || component.elementsEqual([0x2e, 0x2e]) {
                throw ExportError.invalidEntryPath(path, "it has a '.' or '..' component")
            }
        }
        return bytes
    }
}
