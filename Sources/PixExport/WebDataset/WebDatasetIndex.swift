import Foundation

/// The shard index of a WebDataset export, written as JSON next to the shards.
///
/// The file follows the `wids` shard-index layout (`__kind__: "wids-shard-index-v1"`, `shardlist` of
/// `url`/`nsamples`/`filesize`), so `wids.ShardListDataset` can open it, and adds each shard's SHA-256 and
/// key range.
public struct WebDatasetIndex: Sendable, Hashable, Codable {
    /// One shard.
    public struct Shard: Sendable, Hashable, Codable {
        /// File name, relative to the index (`train-000000.tar`).
        public var url: String
        /// Samples in the shard.
        public var sampleCount: Int
        /// Size in bytes.
        public var byteCount: Int
        /// SHA-256 of the shard file, lowercase hex.
        public var sha256: String
        /// Key of the first sample.
        public var firstKey: String
        /// Key of the last sample.
        public var lastKey: String

        /// Creates a shard description.
        /// - Parameters:
        ///   - url: File name relative to the index.
        ///   - sampleCount: Samples in it.
        ///   - byteCount: Its size.
        ///   - sha256: Its SHA-256.
        ///   - firstKey: First sample key.
        ///   - lastKey: Last sample key.
        public init(url: String, sampleCount: Int, byteCount: Int, sha256: String, firstKey: String, lastKey: String) {
            self.url = url
            self.sampleCount = sampleCount
            self.byteCount = byteCount
            self.sha256 = sha256
            self.firstKey = firstKey
            self.lastKey = lastKey
        }

        private enum CodingKeys: String, CodingKey {
            case url
            case sampleCount = "nsamples"
            case byteCount = "filesize"
            case sha256
            case firstKey = "first_key"
            case lastKey = "last_key"
        }
    }

    /// Always `wids-shard-index-v1`.
    public var kind: String
    /// Always 1.
    public var widsVersion: Int
    /// The dataset name (the shard prefix).
    public var name: String
    /// Most samples per shard.
    public var samplesPerShard: Int
    /// Samples across all shards.
    public var totalSamples: Int
    /// Bytes across all shards.
    public var totalBytes: Int
    /// The shards, in order.
    public var shards: [Shard]

    /// Creates an index.
    /// - Parameters:
    ///   - name: The dataset name.
    ///   - samplesPerShard: Most samples per shard.
    ///   - shards: The shards in order.
    public init(name: String, samplesPerShard: Int, shards: [Shard]) {
        self.kind = "wids-shard-index-v1"
        self.widsVersion = 1
        self.name = name
        self.samplesPerShard = samplesPerShard
        self.shards = shards
        self.totalSamples = shards.reduce(0) { $0 + $1.sampleCount }
        self.totalBytes = shards.reduce(0) { $0 + $1.byteCount }
    }

    private enum CodingKeys: String, CodingKey {
        case kind = "__kind__"
        case widsVersion = "wids_version"
        case name
        case samplesPerShard = "samples_per_shard"
        case totalSamples = "total_samples"
        case totalBytes = "total_bytes"
        case shards = "shardlist"
    }

    /// The index as pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// What ``WebDatasetWriter/finish()`` produced.
public struct WebDatasetSummary: Sendable, Hashable {
    /// The index as written.
    public var index: WebDatasetIndex
    /// The index file: its URL, size and SHA-256; ``ArchiveSummary/entryCount`` is the number of shards.
    public var indexFile: ArchiveSummary

    /// Creates a summary.
    /// - Parameters:
    ///   - index: The index.
    ///   - indexFile: The published index file.
    public init(index: WebDatasetIndex, indexFile: ArchiveSummary) {
        self.index = index
        self.indexFile = indexFile
    }
}
