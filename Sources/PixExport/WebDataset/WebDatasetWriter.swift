import Foundation

/// Writes a WebDataset: tar shards of up to N samples named `PREFIX-000000.tar`, `PREFIX-000001.tar`, …,
/// and a shard index `PREFIX-index.json` (see ``WebDatasetIndex``).
///
/// Each sample is three consecutive members, `KEY.jpg|png`, `KEY.json` and `KEY.txt`. Keys must be valid
/// (``WebDatasetKey/validate(_:)``) and strictly increasing, which makes them unique with constant memory.
/// Each shard is published atomically when it is full, and the index last, when ``finish()`` succeeds: a
/// reader that trusts the index never sees a partial shard. ``cancel()``, an error inside a sample, task
/// cancellation and releasing an unfinished writer remove the shard in progress and every shard this writer
/// published. A sample whose image cannot be read before any of its bytes are written (a missing file)
/// throws and leaves the writer open, so the caller may skip it. To publish several writers' shards (one per
/// split) at once, write them into a ``StagingDirectory``.
public final class WebDatasetWriter {
    /// The directory the shards and the index are written to.
    public let directory: URL
    /// The shard name prefix.
    public let prefix: String
    /// Most samples per shard.
    public let samplesPerShard: Int
    /// Samples added so far.
    public private(set) var sampleCount = 0

    /// The index file's name: `PREFIX-index.json`.
    public var indexFileName: String { "\(prefix)-index.json" }

    private let options: ArchiveWriterOptions
    private var current: TarWriter?
    private var currentSamples = 0
    private var currentFirstKey = ""
    private var lastKey: String?
    private var shards: [WebDatasetIndex.Shard] = []
    private var isOpen = true

    /// Begins a WebDataset in an existing directory.
    /// - Parameters:
    ///   - directory: Where shards go; it must exist.
    ///   - prefix: Shard name prefix: ASCII letters, digits, `_` and `-` (for example the split name).
    ///   - samplesPerShard: Most samples per shard (default 1,000).
    ///   - options: Block size and durability of each shard.
    public init(
        directory: URL, prefix: String = "shard", samplesPerShard: Int = 1000, options: ArchiveWriterOptions = .init()
    ) throws {
        guard samplesPerShard > 0 else {
            throw ExportError.invalidOption("samples per shard must be at least 1, got \(samplesPerShard)")
        }
        do {
            try WebDatasetKey.validate(prefix)
        } catch {
            throw ExportError.invalidOption(
                "shard prefix '\(prefix)' may contain only ASCII letters, digits, '_' and '-'")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw ExportError.invalidOption(
                "the WebDataset directory \(directory.path) does not exist; create it first")
        }
        self.directory = directory
        self.prefix = prefix
        self.samplesPerShard = samplesPerShard
        self.options = options
    }

    deinit {
        if isOpen { discard() }
    }

    /// The file name of shard number `index`: `PREFIX-000000.tar`.
    /// - Parameter index: The 0-based shard number.
    public func shardFileName(_ index: Int) -> String {
        let digits = String(index)
        return "\(prefix)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".tar"
    }

    /// Adds one sample, starting a new shard when the current one is full.
    /// - Parameter sample: The sample; its key must be greater than the previous sample's.
    public func addSample(_ sample: WebDatasetSample) throws {
        guard isOpen else { throw ExportError.writerClosed("WebDataset writer") }
        try WebDatasetKey.validate(sample.key)
        if let lastKey, !lastKey.utf8.lexicographicallyPrecedes(sample.key.utf8) {
            throw ExportError.invalidSampleKey(
                sample.key, "it does not sort after the previous key '\(lastKey)'; keys must be unique and increasing")
        }
        let imageExtension = sample.imageExtension
        guard !imageExtension.isEmpty, imageExtension.utf8.count <= 8,
            imageExtension.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }),
            imageExtension != "json", imageExtension != "txt"
        else {
            throw ExportError.invalidOption(
                "image extension '\(imageExtension)' must be 1–8 lowercase letters or digits, without a dot, "
                    + "and not json or txt")
        }

        let shard: TarWriter
        do {
            shard = try current ?? openShard()
        } catch {
            discard()
            throw error
        }
        let start = shard.bytesWritten
        do {
            let imagePath = "\(sample.key).\(imageExtension)"
            switch sample.image {
            case .file(let url, let size):
                try shard.addFile(path: imagePath, from: url, size: size, modified: sample.modified)
            case .bytes(let bytes):
                try shard.addData(path: imagePath, bytes: bytes, modified: sample.modified)
            }
            try shard.addData(
                path: "\(sample.key).json", bytes: Array(sample.metadataJSON.utf8), modified: sample.modified)
            try shard.addData(path: "\(sample.key).txt", bytes: Array(sample.caption.utf8), modified: sample.modified)
        } catch {
            // Nothing of the sample written (a missing image file): the caller may skip it and go on.
            if shard.bytesWritten == start && !(error is CancellationError) { throw error }
            discard()
            throw error
        }
        if currentSamples == 0 { currentFirstKey = sample.key }
        lastKey = sample.key
        sampleCount += 1
        currentSamples += 1
        if currentSamples == samplesPerShard {
            do {
                try closeShard()
            } catch {
                discard()
                throw error
            }
        }
    }

    /// Publishes the last shard and writes the index.
    /// - Returns: The index as written, and the index file's size and SHA-256.
    public func finish() throws -> WebDatasetSummary {
        guard isOpen else { throw ExportError.writerClosed("WebDataset writer") }
        do {
            if current != nil { try closeShard() }
            let index = WebDatasetIndex(name: prefix, samplesPerShard: samplesPerShard, shards: shards)
            let output = try AtomicFileOutput(
                destination: directory.appendingPathComponent(indexFileName), bufferSize: 64 << 10,
                synchronize: options.synchronizeOnFinish)
            let data = try index.jsonData()
            try data.withUnsafeBytes { try output.write($0) }
            try output.write(Array("\n".utf8))
            let published = try output.finish()
            isOpen = false
            let summary = ArchiveSummary(
                url: published.url, size: Int(published.size), sha256: published.sha256, entryCount: shards.count)
            return WebDatasetSummary(index: index, indexFile: summary)
        } catch {
            discard()
            throw error
        }
    }

    /// Abandons the dataset: removes the shard in progress and every shard already published.
    public func cancel() {
        discard()
    }

    private func openShard() throws -> TarWriter {
        let shard = try TarWriter(
            destination: directory.appendingPathComponent(shardFileName(shards.count)), options: options)
        current = shard
        currentSamples = 0
        return shard
    }

    private func closeShard() throws {
        guard let shard = current else { return }
        current = nil
        guard currentSamples > 0, let lastKey else {
            shard.cancel()  // opened for a sample that was then skipped
            return
        }
        let summary = try shard.finish()
        shards.append(
            WebDatasetIndex.Shard(
                url: summary.url.lastPathComponent, sampleCount: currentSamples, byteCount: summary.size,
                sha256: summary.sha256, firstKey: currentFirstKey, lastKey: lastKey))
        currentSamples = 0
    }

    private func discard() {
        guard isOpen else { return }
        isOpen = false
        current?.cancel()
        current = nil
        for shard in shards {
            POSIXFile.removeFile(directory.appendingPathComponent(shard.url).path)
        }
        shards.removeAll()
    }
}
