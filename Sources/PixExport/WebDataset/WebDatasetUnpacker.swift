import Crypto
import Foundation

/// Copies the shards, indexes and manifests of a WebDataset export archive into a directory, verifying every
/// shard against the SHA-256 its index records, so `webdataset.WebDataset("DIR/shard-{000000..000009}.tar")`
/// reads it as is.
enum WebDatasetUnpacker {
    /// Unpacks `archive` into `directory` (created if missing). Each file is written under a temporary name and
    /// renamed into place only once its bytes are checked.
    /// - Returns: The names written, in archive order.
    /// - Throws: ``ExportJobError/Code/integrityMismatch`` when a shard is missing from its index or differs.
    static func unpack(exportID: Int64, archive: URL, into directory: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let members = try TarMembers(path: archive.path).members
        let fd = try POSIXFile.openFile(archive.path, flags: O_RDONLY, operation: "open the archive")
        defer { POSIXFile.closeFile(fd) }
        var expected: [String: String] = [:]
        for member in members where member.name.hasSuffix("-index.json") {
            let bytes = try read(fd, member, path: archive.path)
            let index = try JSONDecoder().decode(WebDatasetIndex.self, from: Data(bytes))
            for shard in index.shards { expected[shard.url] = shard.sha256 }
        }
        var written: [String] = []
        for member in members {
            let name = member.name
            guard !name.contains("/"), !name.hasPrefix(".") else { continue }
            let bytes = try read(fd, member, path: archive.path)
            if name.hasSuffix(".tar") {
                let digest = Hex.string(SHA256.hash(data: bytes))
                guard let recorded = expected[name] else {
                    throw ExportJobError.integrityMismatch(exportID: exportID, detail: "\(name) is in no shard index")
                }
                guard digest == recorded else {
                    throw ExportJobError.integrityMismatch(
                        exportID: exportID, detail: "\(name): SHA-256 \(digest), the index records \(recorded)")
                }
            }
            let destination = directory.appendingPathComponent(name)
            let temporary = POSIXFile.temporarySibling(of: destination)
            let output = try POSIXFile.openFile(
                temporary.path, flags: O_WRONLY | O_CREAT | O_TRUNC, operation: "create the download file")
            do {
                try bytes.withUnsafeBytes { try POSIXFile.writeAll(output, $0, path: temporary.path) }
                try POSIXFile.syncFile(output, path: temporary.path)
                POSIXFile.closeFile(output)
                try POSIXFile.renameFile(temporary.path, to: destination.path)
            } catch {
                POSIXFile.closeFile(output)
                POSIXFile.removeFile(temporary.path)
                throw error
            }
            written.append(name)
        }
        POSIXFile.syncDirectory(directory.path)
        return written
    }

    private static func read(_ fd: Int32, _ member: TarMembers.Member, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(member.size))
        let got = try bytes.withUnsafeMutableBytes {
            try POSIXFile.readFully(fd, into: $0, at: UInt64(member.offset), path: path)
        }
        guard got == bytes.count else { throw ExportError.fileSystem("read a member of", path, errno: EIO) }
        return bytes
    }
}
