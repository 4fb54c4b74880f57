import CPixImage
import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixS3

/// Small JPEG previews of stored images for the dashboard's grid.
///
/// A thumbnail is made once per image content (libjpeg's scaled decode keeps a large JPEG cheap) and kept in the
/// storage next to `images/`, under `thumbnails/ab/<sha256>-<side>.jpg`: a local file written to a temporary name
/// and renamed into place (so concurrent requests never see half a file), or an object in the same bucket and prefix.
struct Thumbnails: Sendable {
    /// The longer side of every thumbnail, in pixels.
    static let maxSide: UInt32 = 256
    /// Images above this many pixels get no thumbnail: the crawl's default pixel budget
    /// (``ValidationRules/maxPixels``). A JPEG decodes at 1/8 scale when it is this large; a PNG is decoded whole
    /// (3 bytes a pixel), so this also bounds a thumbnail's memory.
    static let maxPixels = UInt64(ValidationRules().maxPixels)

    let blobs: any BlobStore
    let pool: BlockingPool

    /// The cache's path of the thumbnail of the content `sha256`, relative to the storage root.
    static func cachePath(sha256: String) -> String {
        "thumbnails/\(sha256.prefix(2))/\(sha256)-\(maxSide).jpg"
    }

    /// The thumbnail of `image`, from the cache or made now; `nil` when its file is missing or cannot be decoded.
    func thumbnail(of image: ImageRecord) async throws -> [UInt8]? {
        guard let key = try? BlobKey(sha256: image.sha256, format: image.format) else { return nil }
        let path = Self.cachePath(sha256: image.sha256)
        let blobs = self.blobs
        return try await pool.run {
            if let cached = Self.cached(path, in: blobs) { return cached }
            guard let original = try? blobs.get(key), let thumbnail = Self.make(from: original) else { return nil }
            Self.store(thumbnail, at: path, in: blobs)
            return thumbnail
        }
    }

    static func cached(_ path: String, in blobs: any BlobStore) -> [UInt8]? {
        switch blobs {
        case let local as LocalBlobStore:
            return (try? Data(contentsOf: local.root.appendingPathComponent(path))).map { [UInt8]($0) }
        case let objects as S3BlobStore:
            return try? objects.client.getObject(key: objects.client.location.key(for: path))
        default:
            return nil
        }
    }

    /// Keeps `bytes` at `path`; a failure only costs the cache entry.
    static func store(_ bytes: [UInt8], at path: String, in blobs: any BlobStore) {
        switch blobs {
        case let local as LocalBlobStore:
            let file = local.root.appendingPathComponent(path)
            let directory = file.deletingLastPathComponent()
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
            guard (try? Data(bytes).write(to: temporary)) != nil else { return }
            if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
        case let objects as S3BlobStore:
            _ = try? objects.client.putObject(
                key: objects.client.location.key(for: path), bytes: bytes, contentType: "image/jpeg")
        default:
            break
        }
    }

    /// A JPEG at most ``maxSide`` pixels on its longer side, or `nil` when `original` is not a decodable JPEG or PNG.
    static func make(from original: [UInt8]) -> [UInt8]? {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var width: UInt32 = 0
        var height: UInt32 = 0
        var status = cpix_status()
        let code = original.withUnsafeBufferPointer { buffer in
            cpix_thumbnail(
                buffer.baseAddress, buffer.count, maxSide, maxPixels, 80, &output, &length, &width, &height, &status)
        }
        guard code == Int32(CPIX_OK), let output else { return nil }
        defer { cpix_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
