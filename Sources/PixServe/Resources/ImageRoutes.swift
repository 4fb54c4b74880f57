import Foundation
import HTTPTypes
import Hummingbird
import PixBlob
import PixCore
import PixStore

extension PixServer {
    /// `/v1/jobs/{id}/images`, `/v1/images/{id}`, `/v1/images/{id}/file`.
    func addImageRoutes(to api: RouterGroup<PixRequestContext>) {
        api.get("jobs/{id}/images") { request, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            let filter = try ImageFilter(request)
            let (images, next) = try await filter.page(store: store, jobID: job.id)
            return JSONResponse(value: Page(items: images.map(ImageView.init), limit: filter.limit, nextAfterId: next))
        }
        api.get("images/{id}") { _, context in
            let caller = try context.requireCaller()
            return JSONResponse(value: ImageView(try await ownedImage(try Self.pathID(context, "image"), caller: caller)))
        }
        api.get("images/{id}/file") { _, context in
            let caller = try context.requireCaller()
            let image = try await ownedImage(try Self.pathID(context, "image"), caller: caller)
            guard let blobs, let key = try? BlobKey(sha256: image.sha256, format: image.format) else {
                throw APIError.notFound("file of image \(image.id)")
            }
            let body: ResponseBody
            let size: Int
            if let local = blobs as? LocalBlobStore {
                let path = local.fileURL(for: key).path
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                    let fileSize = (attributes[.size] as? NSNumber)?.intValue
                else { throw APIError.notFound("file of image \(image.id)") }
                size = fileSize
                body = try await FileIO().loadFile(path: path, context: context)
            } else {
                // Object storage: one image is small (the crawl capped its size), so it is read whole, off the
                // event loop.
                let bytes = try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(with: Result { try? blobs.get(key) }) }
                }
                guard let bytes else { throw APIError.notFound("file of image \(image.id)") }
                size = bytes.count
                body = ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            }
            var headers = HTTPFields()
            headers[.contentType] = image.format.mediaType
            headers[.contentLength] = "\(size)"
            headers[.eTag] = "\"\(image.sha256)\""
            headers[.cacheControl] = "private, max-age=86400, immutable"
            headers[.contentDisposition] = "inline; filename=\"\(key.filename)\""
            return Response(status: .ok, headers: headers, body: body)
        }
    }
}

/// The query of `GET /v1/jobs/{id}/images`: `valid`, `format`, `min_width`, `min_height`, `after_id`, `limit`.
struct ImageFilter: Sendable {
    var valid: Bool?
    var format: ImageFormat?
    var minWidth: Int
    var minHeight: Int
    var afterID: Int64
    var limit: Int

    /// What `valid` may be.
    static let validValues = ["true", "false", "all", "1", "0"]

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        switch query.get("valid") {
        case nil, "all": valid = nil
        case "true", "1": valid = true
        case "false", "0": valid = false
        default: throw APIError.invalidParameter("valid", reason: "must be \(Self.validValues.joined(separator: ", "))")
        }
        if let raw = query.get("format") {
            guard let format = ImageFormat(name: raw) else {
                throw APIError.validation(field: "format", reason: "unknown format \(raw.debugDescription); use jpeg or png")
            }
            self.format = format
        }
        minWidth = try APIBounds.imageMinWidth.value(in: request)
        minHeight = try APIBounds.imageMinHeight.value(in: request)
        limit = try APIBounds.imageLimit.value(in: request)
        afterID = Int64(try APIBounds.afterID.value(in: request))
    }

    func matches(_ image: ImageRecord) -> Bool {
        if let valid, image.isValid != valid { return false }
        if let format, image.format != format { return false }
        return image.width >= minWidth && image.height >= minHeight
    }

    /// Walks the job's images in id order (keyset) until a page is full. A scan is bounded; when it stops
    /// early the cursor still advances, so a client keeps paging.
    func page(store: any CrawlStore, jobID: Int64) async throws -> ([ImageRecord], Int64?) {
        var result: [ImageRecord] = []
        var cursor = afterID
        let batch = max(limit, 200)
        for _ in 0..<20 {
            let rows = try await store.images(jobID: jobID, validOnly: valid == true, afterID: cursor, limit: batch)
            for image in rows {
                cursor = image.id
                if matches(image) {
                    result.append(image)
                    if result.count == limit { return (result, image.id) }
                }
            }
            if rows.count < batch { return (result, nil) }
        }
        return (result, cursor)
    }
}
