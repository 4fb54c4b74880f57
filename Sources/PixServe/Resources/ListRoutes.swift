import Foundation
import Hummingbird
import PixCoordinate
import PixCore
import PixSources
import PixStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A staged URL list as the API shows it.
struct URLListView: Encodable, Sendable {
    /// The list's id (its SHA-256); a job names it as `list:<id>`.
    var id: String
    var sha256: String
    var format: String
    var columns: [String]
    var rows: Int64
    var bytes: Int64
    var createdAt: Date

    init(_ record: URLListRecord) {
        id = record.sha256
        sha256 = record.sha256
        format = record.format
        columns = record.columns
        rows = record.rows
        bytes = record.bytes
        createdAt = record.createdAt
    }
}

extension PixServer {
    /// `/v1/lists`: URL lists uploaded into the shared storage, owner-scoped.
    func addListRoutes(to api: RouterGroup<PixRequestContext>) {
        api.post("lists") { request, context in
            let caller = try context.requireCaller()
            let (lists, store) = try listStorage()
            let columns = URLListSource.Columns(
                url: request.uri.queryParameters.get("url_col"), caption: request.uri.queryParameters.get("caption_col"),
                hash: request.uri.queryParameters.get("hash_col"))
            let format = try Self.listFormat(request)
            let upload = try await receiveUpload(request)
            defer { try? FileManager.default.removeItem(at: upload.deletingLastPathComponent()) }
            let logger = self.logger
            let staged: StagedList
            do {
                staged = try await validationPool.run {
                    try URLListStaging.stage(
                        path: upload.path, format: format, columns: columns, into: lists,
                        scratch: upload.deletingLastPathComponent(),
                        logger: logger)
                }
            } catch let error as SourceError {
                throw APIError.invalidParameter(
                    "body", reason: error.message.replacingOccurrences(of: "'\(upload.path)'", with: "the upload"))
            }
            let record = try await store.registerList(
                URLListRecord(
                    ownerID: caller.profile.id, sha256: staged.sha256, format: staged.format.rawValue,
                    columns: staged.columns, rows: Int64(staged.rows), bytes: staged.bytes))
            await audit(caller, "list.uploaded", "url_list", record.sha256, ["rows": "\(record.rows)"])
            return JSONResponse(value: URLListView(record), status: .created)
        }
        api.get("lists") { request, context in
            let caller = try context.requireCaller()
            let (_, store) = try listStorage()
            let limit = try APIBounds.pageLimit.value(in: request)
            let offset = try APIBounds.offset.value(in: request)
            let records = try await store.lists(ownerID: caller.profile.id, limit: limit, offset: offset)
            return JSONResponse(value: Page(items: records.map(URLListView.init), limit: limit, offset: offset))
        }
        api.get("lists/{id}") { _, context in
            let caller = try context.requireCaller()
            let (_, store) = try listStorage()
            let id = context.parameters.get("id") ?? ""
            guard URLListStaging.isListID(id), let record = try await store.list(ownerID: caller.profile.id, sha256: id)
            else { throw APIError.notFound("list \(id)") }
            return JSONResponse(value: URLListView(record))
        }
    }

    /// Refuses a job naming a staged list the caller never uploaded (422 on `sources[i]`, whether or not the list
    /// exists for someone else).
    func checkListSources(_ sources: [String], caller: Caller) async throws {
        for (index, source) in sources.enumerated() {
            guard case .list(let id, _)? = try? SourceSpec(parsing: source) else { continue }
            let store = store as? SQLCrawlStore
            guard let store, try await store.list(ownerID: caller.profile.id, sha256: id) != nil else {
                throw APIError.validation(
                    field: "sources[\(index)]", reason: "no list \(id) of yours; upload it with POST /v1/lists first")
            }
        }
    }

    /// The upload's format: `?format=`, else its media type (`text/csv`, `text/tab-separated-values`,
    /// `application/x-ndjson`, `text/plain`), else nil (detected from the content).
    static func listFormat(_ request: Request) throws -> URLListSource.Format? {
        if let raw = request.uri.queryParameters.get("format") {
            guard let format = URLListSource.Format(rawValue: raw.lowercased()) else {
                throw APIError.invalidParameter("format", reason: "must be text, csv, tsv or jsonl")
            }
            return format
        }
        let media = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        switch media?.lowercased() {
        case "text/csv": return .csv
        case "text/tab-separated-values": return .tsv
        case "application/x-ndjson", "application/jsonl", "application/jsonlines": return .jsonl
        case "text/plain": return .text
        default: return nil
        }
    }

    private func listStorage() throws -> (any ListObjectStore, SQLCrawlStore) {
        guard let lists, let store = store as? SQLCrawlStore else {
            throw APIError.notImplemented("this server has no storage for URL lists")
        }
        return (lists, store)
    }

    /// Streams the request body into a fresh scratch file, never holding it whole; past
    /// ``ServeConfiguration/maxListBytes`` it stops with 413. An interrupted or refused upload leaves no file.
    private func receiveUpload(_ request: Request) async throws -> URL {
        let limit = configuration.maxListBytes
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > limit {
            throw APIError(.payloadTooLarge, .contentTooLarge, reason: "the list is larger than \(limit) bytes")
        }
        let directory = configuration.uploadDirectory.appendingPathComponent(
            "pixcrawl-upload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("list")
        let output = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            try? FileManager.default.removeItem(at: directory)
            throw APIError.unavailable("cannot store the upload")
        }
        var complete = false
        defer {
            close(output)
            if !complete { try? FileManager.default.removeItem(at: directory) }
        }
        var received: Int64 = 0
        for try await buffer in request.body {
            received += Int64(buffer.readableBytes)
            guard received <= limit else {
                throw APIError(.payloadTooLarge, .contentTooLarge, reason: "the list is larger than \(limit) bytes")
            }
            try buffer.withUnsafeReadableBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let wrote = write(output, bytes.baseAddress! + written, bytes.count - written)
                    guard wrote > 0 else { throw APIError.unavailable("cannot store the upload") }
                    written += wrote
                }
            }
        }
        complete = true
        return file
    }
}
