import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PixCore
import PixStore

extension PixServer {
    /// `GET /v1/images/{id}/thumbnail`: a JPEG preview at most ``Thumbnails/maxSide`` pixels on its longer side,
    /// owner-scoped like the image file (404 for another user's image, a missing image or a missing file).
    func addThumbnailRoutes(to api: RouterGroup<PixRequestContext>) {
        api.get("images/{id}/thumbnail") { request, context in
            let caller = try context.requireCaller()
            let image = try await ownedImage(try Self.pathID(context, "image"), caller: caller)
            let etag = "\"\(image.sha256)-\(Thumbnails.maxSide)\""
            var headers = HTTPFields()
            headers[.eTag] = etag
            headers[.cacheControl] = "private, max-age=86400, immutable"
            if request.headers[.ifNoneMatch] == etag {
                return Response(status: .notModified, headers: headers)
            }
            guard let thumbnails, let bytes = try await thumbnails.thumbnail(of: image) else {
                throw APIError.notFound("thumbnail of image \(image.id)")
            }
            headers[.contentType] = "image/jpeg"
            headers[.contentLength] = "\(bytes.count)"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
