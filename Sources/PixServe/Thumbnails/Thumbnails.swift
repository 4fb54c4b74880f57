import CPixShim
import Foundation
import PixBlob
import PixCoordinate
import PixCore

/// Small JPEG previews of stored images for the dashboard's grid.
///
/// A thumbnail is made once per image content (libjpeg's scaled decode keeps a large JPEG cheap) and kept in the
/// storage directory under `thumbnails/ab/<sha256>-<side>.jpg`, written to a temporary file and renamed into place,
/// so concurrent requests never see half a file. On object storage nothing is cached on disk; the response's
/// cache headers still spare repeated requests.
struct Thumbnails: Sendable {
    /// The longer side of every thumbnail, in pixels.
    static let maxSide: UInt32 = 256
    /// Images above this many pixels get no thumbnail: the crawl's default pixel budget
    /// (``ValidationRules/maxPixels``). A JPEG decodes at 1/8 scale when it is this large; a PNG is decoded whole
    /// (3 bytes a pixel), so this also bounds a thumbnail's memory.
    static let maxPixels = UInt64(ValidationRules().maxPixels)

    let blobs: any BlobStore
    let pool: BlockingPool

    /// Where thumbnails are cached: next to `images/` in a local store.
    var cacheDirectory: URL? {
        (blobs as? LocalBlobStore)?.root.appendingPathComponent("thumbnails", isDirectory: true)
    }

    /// The thumbnail of `image`, from the cache or made now; `nil` when its file is missing or cannot be decoded.
    func thumbnail(of image: ImageRecord) async throws -> [UInt8]? {
        guard let key = try? BlobKey(sha256: image.sha256, format: image.format) else { return nil }
        let cached = cacheDirectory.map {
            $0.appendingPathComponent(String(image.sha256.prefix(2)), isDirectory: true)
                .appendingPathComponent("\(image.sha256)-\(Self.maxSide).jpg")
        }
        let blobs = self.blobs
        return try await pool.run {
            if let cached, let bytes = try? Data(contentsOf: cached) { return [UInt8](bytes) }
            guard let original = try? blobs.get(key), let thumbnail = Self.make(from: original) else { return nil }
            if let cached { Self.store(thumbnail, at: cached) }
            return thumbnail
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

    /// Writes `bytes` to `file` through a temporary file and a rename; a failure only costs the cache entry.
    static func store(_ bytes: [UInt8], at file: URL) {
        let directory = file.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
        guard (try? Data(bytes).write(to: temporary)) != nil else { return }
        if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }
}
