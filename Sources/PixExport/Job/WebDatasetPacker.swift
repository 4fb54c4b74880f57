import Foundation

/// Writes WebDataset shards (one ``WebDatasetWriter`` per split) into a scratch directory and moves each
/// shard into one outer tar archive as soon as it is full, so the scratch space holds at most one open shard
/// per split. The shard indexes follow the shards when the packer finishes.
final class WebDatasetPacker {
    private let outer: TarWriter
    private let directory: URL
    private let samplesPerShard: Int
    private let options: ArchiveWriterOptions
    private let modified: Date
    private var writers: [String: WebDatasetWriter] = [:]
    private var moved: [String: Int] = [:]

    /// - Parameters:
    ///   - outer: The archive the shards and indexes go into.
    ///   - directory: An existing scratch directory on the same file system.
    ///   - samplesPerShard: Samples per shard.
    ///   - modified: Modification time of the shard and index entries in the outer archive.
    init(outer: TarWriter, directory: URL, samplesPerShard: Int, options: ArchiveWriterOptions, modified: Date) {
        self.outer = outer
        self.modified = modified
        self.directory = directory
        self.samplesPerShard = samplesPerShard
        self.options = options
    }

    /// Adds a sample to the shards named `prefix` (a split name, or `shard`).
    func add(_ sample: WebDatasetSample, prefix: String) throws {
        let writer = try writer(prefix)
        try writer.addSample(sample)
        if writer.sampleCount % samplesPerShard == 0 {
            try moveShard(of: writer, number: writer.sampleCount / samplesPerShard - 1)
        }
    }

    /// Publishes every last shard and index and moves them into the outer archive.
    func finish() throws {
        for prefix in writers.keys.sorted() {
            guard let writer = writers[prefix] else { continue }
            let summary = try writer.finish()
            for number in (moved[prefix] ?? 0)..<summary.index.shards.count {
                try moveShard(of: writer, number: number)
            }
            try moveIntoArchive(summary.indexFile.url)
        }
        writers.removeAll()
    }

    /// Abandons every writer and removes its shards.
    func cancel() {
        for writer in writers.values { writer.cancel() }
        writers.removeAll()
    }

    private func writer(_ prefix: String) throws -> WebDatasetWriter {
        if let writer = writers[prefix] { return writer }
        let writer = try WebDatasetWriter(
            directory: directory, prefix: prefix, samplesPerShard: samplesPerShard, options: options)
        writers[prefix] = writer
        return writer
    }

    private func moveShard(of writer: WebDatasetWriter, number: Int) throws {
        try moveIntoArchive(directory.appendingPathComponent(writer.shardFileName(number)))
        moved[writer.prefix, default: 0] = number + 1
    }

    private func moveIntoArchive(_ file: URL) throws {
        try outer.addFile(path: file.lastPathComponent, from: file, size: nil, modified: modified)
        POSIXFile.removeFile(file.path)
    }
}
