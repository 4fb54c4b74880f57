import CPixImage
import Foundation
import PixBlob
import PixCore
import PixS3
import PixServe
import PixStore

extension TestServer {
    /// Stores `count` real, decodable images (JPEG, every fourth a PNG) of `width`×`height` for a job, as workers
    /// would, and returns their rows in insertion order.
    @discardableResult
    func insertRealImages(jobID: Int64, count: Int, width: Int = 640, height: Int = 480) async throws -> [ImageRecord] {
        var images: [NewImage] = []
        for index in 0..<count {
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let offset = (y * width + x) * 3
                    pixels[offset] = UInt8((x * 255 / width + index * 40) % 256)
                    pixels[offset + 1] = UInt8((y * 255 / height + index * 70) % 256)
                    pixels[offset + 2] = UInt8((index * 90) % 256)
                }
            }
            let format: ImageFormat = index % 4 == 3 ? .png : .jpeg
            let bytes = try Self.encode(pixels, width: width, height: height, format: format)
            let digest = SigV4.sha256Hex(bytes)
            let key = try BlobKey(sha256: digest, format: format)
            let stored = try blobs.put(bytes, for: key)
            images.append(
                NewImage(
                    originalURL: "http://127.0.0.1/img/\(jobID)/\(index).\(format.fileExtension)", filename: key.filename,
                    storageURL: stored.storageURL, width: width, height: height, fileSize: bytes.count, format: format,
                    sha256: digest, perceptualHash: UInt64(index) << 20, keyword: "red fox", source: "demo",
                    license: "by", creator: "tester"))
        }
        _ = try await store.insertImages(jobID: jobID, images: images)
        return try await store.images(jobID: jobID, validOnly: false, afterID: 0, limit: 10_000)
    }

    static func encode(_ pixels: [UInt8], width: Int, height: Int, format: ImageFormat) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        let code =
            format == .png
            ? cpix_png_encode(pixels, UInt32(width), UInt32(height), 3, &output, &length, &status)
            : cpix_jpeg_encode(pixels, UInt32(width), UInt32(height), 3, 85, &output, &length, &status)
        guard code == Int32(CPIX_OK), let output else { throw ClientError(description: "encode failed: \(code)") }
        defer { cpix_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    /// The dimensions of a JPEG, read by decoding it fully (so a truncated or corrupt file fails).
    static func decodedJPEGSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        var header = cpix_image_header()
        var status = cpix_status()
        var options = cpix_decode_options()
        let code = bytes.withUnsafeBufferPointer {
            cpix_jpeg_decode($0.baseAddress, $0.count, Int32(CPIX_JPEG_FULL), &options, &header, &status)
        }
        return code == Int32(CPIX_OK) ? (Int(header.width), Int(header.height)) : nil
    }
}
