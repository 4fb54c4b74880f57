import Foundation
import PixCore

/// What an export produces.
public enum ExportFormat: String, Sendable, Codable, CaseIterable, Hashable {
    /// One ZIP archive, entries stored.
    case zip
    /// One POSIX tar archive.
    case tar
    /// One gzip-compressed tar archive.
    case tarGzip = "tar.gz"
    /// WebDataset tar shards (and their index), packed in one tar archive.
    case webdataset
    /// The manifest alone, as CSV.
    case csv
    /// The manifest alone, as JSON Lines.
    case jsonl

    /// The single-archive writer format, for `zip`, `tar` and `tar.gz`.
    public var archiveFormat: ArchiveFormat? {
        switch self {
        case .zip: .zip
        case .tar: .tar
        case .tarGzip: .tarGzip
        case .webdataset, .csv, .jsonl: nil
        }
    }

    /// The manifest format, for `csv` and `jsonl`.
    public var manifestFormat: ManifestWriter.Format? {
        switch self {
        case .csv: .csv
        case .jsonl: .jsonl
        case .zip, .tar, .tarGzip, .webdataset: nil
        }
    }

    /// The published file's name suffix: `.zip`, `.tar`, `.tar.gz`, `-webdataset.tar`, `.csv`, `.jsonl`.
    public var fileSuffix: String {
        switch self {
        case .webdataset: "-webdataset.tar"
        default: "." + rawValue
        }
    }
}

/// Where images go inside an archive.
public enum ExportLayout: String, Sendable, Codable, CaseIterable, Hashable {
    /// Every image under `images/`, named `POSITION_ID.EXT`; the split is in the manifests.
    case flat
    /// `SPLIT/KEYWORD/POSITION_ID.EXT` (or `KEYWORD/…` without a split), as torchvision's `ImageFolder` loads it.
    case imagefolder
}

/// The options of one export, stored with it as a JSON object (snake_case keys, as given).
public struct ExportOptions: Sendable, Hashable, Codable {
    /// Where images go inside the archive.
    public var layout: ExportLayout
    /// Drop images whose dHash is within this Hamming distance of a kept one (keeping the largest); `nil` keeps all.
    public var nearDuplicateDistance: Int?
    /// Split weights in the command-line form (`train=0.8,val=0.1,test=0.1`); `nil` leaves images unsplit.
    public var split: String?
    /// Seed of the split assignment.
    public var seed: UInt64
    /// Smallest width exported, in pixels.
    public var minWidth: Int?
    /// Smallest height exported, in pixels.
    public var minHeight: Int?
    /// Lifetime of the first download link, in seconds.
    public var linkLifetimeSeconds: Int
    /// Samples per WebDataset shard.
    public var shardSize: Int
    /// Resize and re-encode every image; `nil` exports the originals.
    public var resize: ResizeOptions?

    /// Seven days: the default lifetime of a download link.
    public static let defaultLinkLifetimeSeconds = 7 * 86_400

    /// Creates options.
    /// - Parameters:
    ///   - layout: Flat or ImageFolder layout.
    ///   - nearDuplicateDistance: Hamming distance for near-duplicate removal (0…64), or `nil`.
    ///   - split: Split weights, or `nil`.
    ///   - seed: Split seed.
    ///   - minWidth: Minimum width.
    ///   - minHeight: Minimum height.
    ///   - linkLifetimeSeconds: First link's lifetime (default 7 days).
    ///   - shardSize: Samples per WebDataset shard (default 1,000).
    public init(
        layout: ExportLayout = .flat, nearDuplicateDistance: Int? = nil, split: String? = nil, seed: UInt64 = 0,
        minWidth: Int? = nil, minHeight: Int? = nil, linkLifetimeSeconds: Int = Self.defaultLinkLifetimeSeconds,
        shardSize: Int = 1000
    ) {
        self.layout = layout
        self.nearDuplicateDistance = nearDuplicateDistance
        self.split = split
        self.seed = seed
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.linkLifetimeSeconds = linkLifetimeSeconds
        self.shardSize = shardSize
        self.resize = nil
    }

    private enum CodingKeys: String, CodingKey {
        case layout
        case nearDuplicateDistance = "dedup_near"
        case split
        case seed
        case minWidth = "min_width"
        case minHeight = "min_height"
        case linkLifetimeSeconds = "expires_seconds"
        case shardSize = "shard_size"
        case resize
    }

    /// Decodes options; missing keys take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            layout: try container.decodeIfPresent(ExportLayout.self, forKey: .layout) ?? .flat,
            nearDuplicateDistance: try container.decodeIfPresent(Int.self, forKey: .nearDuplicateDistance),
            split: try container.decodeIfPresent(String.self, forKey: .split),
            seed: try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0,
            minWidth: try container.decodeIfPresent(Int.self, forKey: .minWidth),
            minHeight: try container.decodeIfPresent(Int.self, forKey: .minHeight),
            linkLifetimeSeconds: try container.decodeIfPresent(Int.self, forKey: .linkLifetimeSeconds)
                ?? Self.defaultLinkLifetimeSeconds,
            shardSize: try container.decodeIfPresent(Int.self, forKey: .shardSize) ?? 1000)
        resize = try container.decodeIfPresent(ResizeOptions.self, forKey: .resize)
    }

    /// Encodes the options, leaving out unset optional values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layout, forKey: .layout)
        try container.encodeIfPresent(nearDuplicateDistance, forKey: .nearDuplicateDistance)
        try container.encodeIfPresent(split, forKey: .split)
        try container.encode(seed, forKey: .seed)
        try container.encodeIfPresent(minWidth, forKey: .minWidth)
        try container.encodeIfPresent(minHeight, forKey: .minHeight)
        try container.encode(linkLifetimeSeconds, forKey: .linkLifetimeSeconds)
        try container.encode(shardSize, forKey: .shardSize)
        try container.encodeIfPresent(resize, forKey: .resize)
    }

    /// The options as a compact JSON object with sorted keys, as stored in `export_jobs.export_options`.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Decodes stored options.
    /// - Parameter json: The `export_options` JSON object.
    /// - Throws: ``ExportJobError/Code/invalidOptions`` when it is not a valid options object.
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(ExportOptions.self, from: Data(json.utf8))
        } catch {
            throw ExportJobError.invalidOptions("the stored export options cannot be read (\(error)): \(json.prefix(300))")
        }
    }

    /// The parsed split ratios, or `nil` for an unsplit export.
    public func splitRatios() throws -> SplitRatios? {
        guard let split else { return nil }
        do {
            return try SplitRatios(parsing: split)
        } catch let error as ExportError {
            throw ExportJobError.invalidOptions(error.description)
        }
    }

    /// Checks every option against `format`.
    /// - Parameter format: The export's format.
    /// - Throws: ``ExportJobError/Code/invalidOptions`` naming the option to change.
    public func validate(for format: ExportFormat) throws {
        if let distance = nearDuplicateDistance, !(0...64).contains(distance) {
            throw ExportJobError.invalidOptions("--dedup-near must be a Hamming distance from 0 to 64, got \(distance)")
        }
        if let minWidth, minWidth < 0 {
            throw ExportJobError.invalidOptions("--min-width must be ≥ 0, got \(minWidth)")
        }
        if let minHeight, minHeight < 0 {
            throw ExportJobError.invalidOptions("--min-height must be ≥ 0, got \(minHeight)")
        }
        guard linkLifetimeSeconds > 0 else {
            throw ExportJobError.invalidOptions("--expires must be a positive duration such as 7d, 12h or 30m")
        }
        guard (1...1_000_000).contains(shardSize) else {
            throw ExportJobError.invalidOptions("--shard-size must be from 1 to 1,000,000 samples, got \(shardSize)")
        }
        if format == .webdataset && layout == .imagefolder {
            throw ExportJobError.invalidOptions(
                "--layout imagefolder applies to zip, tar and tar.gz; a WebDataset groups samples by key instead")
        }
        if let problem = resize?.problem { throw ExportJobError.invalidOptions(problem) }
        if resize != nil, format.manifestFormat != nil {
            throw ExportJobError.invalidOptions("--resize applies to zip, tar, tar.gz and webdataset exports")
        }
        _ = try splitRatios()
    }
}
