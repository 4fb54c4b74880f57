import Foundation

/// One WebDataset sample: an image, its metadata as JSON, and its caption.
///
/// It becomes three consecutive tar members: `KEY.EXT` (the image), `KEY.json` and `KEY.txt`.
public struct WebDatasetSample: Sendable, Hashable {
    /// Where the image bytes come from.
    public enum Image: Sendable, Hashable {
        /// A local file; `size` is the expected size (`nil` takes the file's).
        case file(URL, size: Int?)
        /// Bytes in memory.
        case bytes([UInt8])
    }

    /// The sample key: unique, increasing within a writer, no dots (see ``WebDatasetKey``).
    public var key: String
    /// The image.
    public var image: Image
    /// The image's extension without a dot: `jpg` or `png` (lowercase letters and digits).
    public var imageExtension: String
    /// The metadata document, stored as `KEY.json` (for example ``ManifestRow/jsonObject()``).
    public var metadataJSON: String
    /// The caption, stored as `KEY.txt` (the keyword).
    public var caption: String
    /// Modification time of the three members.
    public var modified: Date

    /// Creates a sample.
    /// - Parameters:
    ///   - key: The sample key.
    ///   - image: The image's bytes or file.
    ///   - imageExtension: `jpg` or `png`.
    ///   - metadataJSON: A JSON document.
    ///   - caption: The caption text.
    ///   - modified: Modification time of the members.
    public init(
        key: String, image: Image, imageExtension: String, metadataJSON: String, caption: String, modified: Date
    ) {
        self.key = key
        self.image = image
        self.imageExtension = imageExtension
        self.metadataJSON = metadataJSON
        self.caption = caption
        self.modified = modified
    }
}
