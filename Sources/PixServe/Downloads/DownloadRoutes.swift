import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import PixCore
import PixExport

extension PixServer {
    /// `GET /downloads/{token}`: the archive behind a live link, with `Content-Length`, a strong `ETag` and
    /// single-range `Range` support (206 / 416); 410 once expired, 404 for tokens never issued.
    ///
    /// `GET /downloads/{token}/{name}` serves one shard (`shard-000000.tar`, `train-000000.tar`) or shard index
    /// (`shard-index.json`, whose relative shard URLs resolve to these routes) of a WebDataset export, with the
    /// same `Range` support, so `webdataset.WebDataset("http://HOST/downloads/TOKEN/shard-{000000..000009}.tar")`
    /// streams it without unpacking. For an export in object storage each shard and index is an object of its own,
    /// and the route redirects (302) to its presigned URL, which expires with the link.
    func addDownloadRoutes(to router: Router<PixRequestContext>) {
        router.get("downloads/{token}") { request, context in
            try await download(request, context, member: nil)
        }
        router.get("downloads/{token}/{member}") { request, context in
            guard let member = context.parameters.get("member"),
                TarMembers.isServedShard(member)
            else { throw APIError.notFound("shard") }
            return try await download(request, context, member: member)
        }
    }

    private func download(_ request: Request, _ context: PixRequestContext, member: String?) async throws -> Response {
        guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
        guard let token = context.parameters.get("token"), APIBounds.downloadToken.problem(token) == nil else {
            throw APIError.notFound("download")
        }
        let start = ContinuousClock.now
        let tokenHash = APITokenGenerator.hash(token)
        var archive: DownloadableArchive
        switch try await exports.download(tokenHash: tokenHash) {
        case .unknown: throw APIError.notFound("download")
        case .expired: throw APIError.gone("this download link has expired; request a new export")
        case .ready(let found): archive = found
        }
        if let member {
            guard archive.filename.hasSuffix(ExportFormat.webdataset.fileSuffix) else {
                throw APIError.notFound("shard (this export is not a WebDataset)")
            }
            if archive.redirectURL != nil {
                guard let shard = try await exports.shardRedirectURL(archive, member: member) else {
                    throw APIError.notFound("shard \(member)")
                }
                archive.redirectURL = shard
            }
        }
        if let redirect = archive.redirectURL {
            // The archive is in object storage: count the download, then send the client to a presigned URL
            // that expires with this link.
            switch try await exports.recordDownload(tokenHash: tokenHash) {
            case .unknown: throw APIError.notFound("download")
            case .expired: throw APIError.gone("this download link has expired; request a new link")
            case .ready: break
            }
            await audit(
                nil, "download.served", "export", "\(archive.exportID)", ["redirect": "object storage"],
                userID: archive.userID)
            var headers = HTTPFields()
            headers[.location] = redirect
            headers[.cacheControl] = "private, no-store"
            return Response(status: .found, headers: headers)
        }
        guard FileManager.default.fileExists(atPath: archive.path) else {
            throw APIError.gone("the archive of this download is no longer stored")
        }
        // A WebDataset shard is a contiguous member of the uncompressed archive: serve that byte range.
        var base = 0
        var etag = "\"" + (archive.sha256 ?? "\(archive.exportID)-\(archive.size)") + "\""
        if let member {
            guard let found = try TarMembers(path: archive.path).member(named: member) else {
                throw APIError.notFound("shard \(member)")
            }
            base = Int(found.offset)
            archive.size = Int(found.size)
            archive.filename = member
            etag = "\"" + (archive.sha256.map { "\($0)-\(member)" } ?? "\(archive.exportID)-\(member)") + "\""
        }
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.acceptRanges] = "bytes"
        headers[.contentType] =
            member?.hasSuffix(".json") == true ? "application/json" : ArchiveStorage.mediaType(of: archive.filename)
        headers[.contentDisposition] = "attachment; filename=\"\(archive.filename)\""
        headers[.cacheControl] = "private, no-store"
        headers[.expires] = Date.httpDate(archive.expiresAt)
        if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
            return Response(status: .notModified, headers: headers)
        }
        // A stale If-Range validator means the client's partial copy is of another file: send everything.
        var rangeHeader = request.headers[.range]
        if let ifRange = request.headers[.ifRange], ifRange != etag { rangeHeader = nil }
        let status: HTTPResponse.Status
        let range: ClosedRange<Int>
        switch ByteRange(header: rangeHeader, size: archive.size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(archive.size)"
            var response = try APIJSON.response(
                APIErrorBody(APIError.rangeNotSatisfiable(size: archive.size)), status: .rangeNotSatisfiable)
            response.headers[.contentRange] = "bytes */\(archive.size)"
            return response
        case .whole:
            status = .ok
            range = 0...max(0, archive.size - 1)
        case .partial(let requested):
            status = .partialContent
            range = requested
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(archive.size)"
        }
        let length = archive.size == 0 ? 0 : range.count
        headers[.contentLength] = "\(length)"
        // Count the download (atomically, only while the link is live) before sending a byte.
        switch try await exports.recordDownload(tokenHash: tokenHash) {
        case .unknown: throw APIError.notFound("download")
        case .expired: throw APIError.gone("this download link has expired; request a new link")
        case .ready: break
        }
        let body =
            archive.size == 0
            ? ResponseBody()
            : try await FileIO().loadFile(
                path: archive.path, range: (range.lowerBound + base)...(range.upperBound + base), context: context)
        await audit(
            nil, "download.served", "export", "\(archive.exportID)",
            ["bytes": "\(length)", "range": status == .partialContent ? "\(range.lowerBound)-\(range.upperBound)" : "full"],
            userID: archive.userID)
        Counter(label: "pixcrawl.downloads.bytes").increment(by: Int64(length))
        Timer(label: "pixcrawl.download.duration").recordInterval(since: start)
        return Response(status: status, headers: headers, body: body)
    }
}

extension Timer {
    /// Records the time elapsed since `start` on the continuous clock.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}

extension Date {
    /// RFC 9110 IMF-fixdate.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
