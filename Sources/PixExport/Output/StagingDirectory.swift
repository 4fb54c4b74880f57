import Foundation

/// A hidden directory next to a destination, filled by one or more writers and renamed into place at once.
///
/// Use it for outputs made of several files, such as WebDataset shards for three splits: write everything
/// under ``url``, then ``publish()``. Until then nothing is visible under the destination's name;
/// ``discard()`` or releasing an unpublished staging directory deletes it with its contents.
public final class StagingDirectory {
    /// Where the directory appears after ``publish()``.
    public let destination: URL
    /// The hidden directory to write into.
    public let url: URL
    private var isPending = true

    /// Creates the hidden directory next to `destination`.
    /// - Parameter destination: The final directory; it must not exist yet.
    public init(destination: URL) throws {
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw ExportError.invalidOption(
                "\(destination.path) already exists; remove it or choose another export directory")
        }
        self.destination = destination
        self.url = POSIXFile.temporarySibling(of: destination)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        } catch {
            throw ExportError.invalidOption("cannot create the staging directory \(url.path): \(error)")
        }
    }

    deinit {
        discard()
    }

    /// Renames the staging directory to ``destination`` atomically.
    public func publish() throws {
        guard isPending else { throw ExportError.writerClosed("staging directory") }
        do {
            try POSIXFile.renameFile(url.path, to: destination.path)
        } catch {
            discard()
            throw error
        }
        isPending = false
        POSIXFile.syncDirectory(destination.deletingLastPathComponent().path)
    }

    /// Deletes the staging directory and everything in it. Does nothing after ``publish()``.
    public func discard() {
        guard isPending else { return }
        isPending = false
        try? FileManager.default.removeItem(at: url)
    }
}
