import Foundation

/// A stored image of a crawl job: the ``NewImage`` it was recorded from and what the store added (its id, its
/// job and chunk, its verdict and when it was written). The recorded fields read through the record:
/// `record.width` is `record.image.width`.
@dynamicMemberLookup
public struct ImageRecord: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var jobID: Int64
    public var chunkID: Int64?
    /// The image as it was recorded: URL, file, dimensions, hashes and provenance.
    public var image: NewImage
    public var isValid: Bool
    public var rejectionReason: String?
    public var createdAt: Date

    public init(
        id: Int64, jobID: Int64, chunkID: Int64?, image: NewImage, isValid: Bool, rejectionReason: String?,
        createdAt: Date
    ) {
        self.id = id
        self.jobID = jobID
        self.chunkID = chunkID
        self.image = image
        self.isValid = isValid
        self.rejectionReason = rejectionReason
        self.createdAt = createdAt
    }

    /// A recorded field of ``image``.
    public subscript<Value>(dynamicMember field: WritableKeyPath<NewImage, Value>) -> Value {
        get { image[keyPath: field] }
        set { image[keyPath: field] = newValue }
    }
}

/// An accepted image to record; its blob is already stored.
public struct NewImage: Sendable, Codable, Hashable {
    public var originalURL: String
    public var filename: String
    public var storageURL: String?
    public var width: Int
    public var height: Int
    public var fileSize: Int
    public var format: ImageFormat
    public var sha256: String
    /// 64-bit difference hash of the decoded pixels, for near-duplicate removal.
    public var perceptualHash: UInt64?
    public var keyword: String
    public var source: String
    public var license: String?
    public var licenseVersion: String?
    public var creator: String?
    public var landingURL: String?
    public var title: String?
    /// The URL list row's kept columns (`--keep-columns`), by column name.
    public var keptColumns: [String: String]?
    /// The resized copy made at crawl time, when the job has a resize spec.
    public var derivative: ImageDerivative?

    public init(
        originalURL: String, filename: String, storageURL: String?, width: Int, height: Int, fileSize: Int,
        format: ImageFormat, sha256: String, perceptualHash: UInt64?, keyword: String, source: String,
        license: String? = nil, licenseVersion: String? = nil, creator: String? = nil, landingURL: String? = nil,
        title: String? = nil, keptColumns: [String: String]? = nil, derivative: ImageDerivative? = nil
    ) {
        self.originalURL = originalURL
        self.filename = filename
        self.storageURL = storageURL
        self.width = width
        self.height = height
        self.fileSize = fileSize
        self.format = format
        self.sha256 = sha256
        self.perceptualHash = perceptualHash
        self.keyword = keyword
        self.source = source
        self.license = license
        self.licenseVersion = licenseVersion
        self.creator = creator
        self.landingURL = landingURL
        self.title = title
        self.keptColumns = keptColumns
        self.derivative = derivative
    }
}
