import PixCore
import PixSources

/// One documented operation of the HTTP API.
public struct APIOperation: Sendable, Hashable {
    /// HTTP method, upper case.
    public var method: String
    /// OpenAPI path template (`/v1/projects/{id}`), the same spelling the router registers.
    public var path: String
    public var summary: String
    public var tag: String
    /// Whether a bearer token (or the session cookie) is required.
    public var authenticated: Bool
    /// Name of the request body schema in `components.schemas`, if any.
    public var requestSchema: String?
    /// Query parameters: name, schema type, description.
    public var query: [QueryParameter]
    /// Status code → (description, response schema name or media type).
    public var responses: [Int: ResponseSpec]

    public struct QueryParameter: Sendable, Hashable {
        public var name: String
        public var type: String
        public var description: String
        /// For an integer parameter, the values the handler accepts (``IntegerQuery``).
        public var range: ClosedRange<Int>? = nil
        /// For a string parameter with a fixed set of values, those values.
        public var values: [String]? = nil
    }

    public struct ResponseSpec: Sendable, Hashable {
        public var description: String
        /// `#/components/schemas/NAME` when set, else the media type below with no schema.
        public var schema: String?
        public var mediaType: String
    }
}

/// Every route the server registers, described once; ``OpenAPIDocument`` renders it and a test checks it
/// against the router in both directions.
public enum APICatalog {
    typealias Q = APIOperation.QueryParameter
    typealias R = APIOperation.ResponseSpec

    static func json(_ description: String, _ schema: String?) -> R {
        R(description: description, schema: schema, mediaType: "application/json")
    }

    static let errors: [Int: R] = [
        400: json("Malformed JSON, a wrong type or a bad parameter", "Error"),
        401: json("Missing, invalid or revoked token", "Error"),
        404: json("Not found, or owned by someone else", "Error"),
    ]

    static func op(
        _ method: String, _ path: String, _ summary: String, tag: String, auth: Bool = true, body: String? = nil,
        query: [Q] = [], _ responses: [Int: R]
    ) -> APIOperation {
        var all = auth ? errors : [:]
        if body != nil {
            all[413] = json("Body larger than the configured limit", "Error")
            if body != OpenAPIDocument.listUpload { all[415] = json("Body is not application/json", "Error") }
            all[422] = json("A field's value is refused", "Error")
        }
        for (code, spec) in responses { all[code] = spec }
        return APIOperation(
            method: method, path: path, summary: summary, tag: tag, authenticated: auth, requestSchema: body,
            query: query, responses: all)
    }

    static let paging = [APIBounds.pageLimit.parameter, APIBounds.offset.parameter]

    /// The dashboard's answers to a caller without a session and for another user's (or no) resource.
    static let dashboardErrors: [Int: R] = [
        401: json("Not signed in", "Error"), 404: json("Not found, or owned by someone else", "Error"),
    ]

    /// The methods the catalog lists for the path template `path` matches (`{name}` matching one segment),
    /// or `nil` when it matches none: what a 405's `Allow` header names.
    public static func allowedMethods(forPath path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.filter { template, _ in
            template.count == segments.count
                && zip(template, segments).allSatisfy { part, segment in
                    (part.hasPrefix("{") && part.hasSuffix("}")) || part == segment
                }
        }.flatMap(\.methods)
        return methods.isEmpty ? nil : Array(Set(methods)).sorted()
    }

    /// Every path template's segments with the methods listed for it.
    static let routes: [(template: [Substring], methods: [String])] = Dictionary(
        grouping: operations, by: \.path
    ).map { path, operations in (path.split(separator: "/"), operations.map(\.method)) }

    /// The operations, in document order.
    public static let operations: [APIOperation] = [
        op("GET", "/healthz", "Process is up", tag: "operations", auth: false, [200: json("Alive", "Health")]),
        op(
            "GET", "/readyz", "Store reachable and migrations current", tag: "operations", auth: false,
            [200: json("Ready", "Readiness"), 503: json("Not ready", "Readiness")]),
        op(
            "GET", "/metrics", "Prometheus metrics", tag: "operations", auth: false,
            [200: R(description: "Prometheus text format 0.0.4", schema: nil, mediaType: "text/plain")]),
        op(
            "GET", "/openapi.json", "This document", tag: "operations", auth: false,
            [200: R(description: "OpenAPI 3.1 document", schema: nil, mediaType: "application/json")]),

        op("GET", "/v1/me", "The caller's profile", tag: "account", [200: json("Profile", "Profile")]),
        op("GET", "/v1/tokens", "The caller's API tokens (never the secrets)", tag: "account", [200: json("Tokens", "Page")]),
        op(
            "POST", "/v1/tokens", "Create an API token; the secret is shown once", tag: "account", body: "TokenRequest",
            [201: json("Created", "CreatedToken")]),
        op(
            "DELETE", "/v1/tokens/{id}", "Revoke a token", tag: "account",
            [204: R(description: "Revoked", schema: nil, mediaType: "")]),
        op(
            "GET", "/v1/activity", "The caller's own activity, newest first", tag: "account",
            query: [APIBounds.activityLimit.parameter], [200: json("Activity", "Page")]),
        op(
            "GET", "/v1/workers", "Registered workers (admins only)", tag: "operations",
            [200: json("Workers", "Page"), 403: json("Not an admin", "Error")]),

        op(
            "POST", "/v1/projects", "Create a project", tag: "projects", body: "ProjectCreate",
            [201: json("Created", "Project")]),
        op("GET", "/v1/projects", "The caller's projects (all, for admins)", tag: "projects", [200: json("Projects", "Page")]),
        op("GET", "/v1/projects/{id}", "One project", tag: "projects", [200: json("Project", "Project")]),
        op(
            "PATCH", "/v1/projects/{id}", "Change name, description or status", tag: "projects", body: "ProjectUpdate",
            [200: json("Updated", "Project")]),
        op(
            "DELETE", "/v1/projects/{id}", "Delete a project with its jobs, chunks and images", tag: "projects",
            [204: R(description: "Deleted", schema: nil, mediaType: "")]),

        op(
            "POST", "/v1/jobs", "Submit a crawl job; the job and its chunks are created in one transaction",
            tag: "jobs", body: "JobSubmission", [201: json("Submitted", "Job")]),
        op(
            "GET", "/v1/jobs", "The caller's jobs, newest first", tag: "jobs",
            query: paging + [
                Q(
                    name: "status", type: "string", description: "Only jobs with this status",
                    values: JobStatus.allCases.map(\.rawValue)),
                APIBounds.projectFilter.parameter,
            ], [200: json("Jobs", "Page")]),
        op(
            "POST", "/v1/lists",
            "Upload a URL list (text, CSV, TSV or JSONL; streamed into the shared storage); jobs name it as list:ID",
            tag: "lists", body: OpenAPIDocument.listUpload,
            query: [
                Q(
                    name: "format", type: "string", description: "The list's format (else from Content-Type or the content)",
                    values: URLListSource.Format.allCases.map(\.rawValue)),
                Q(name: "url_col", type: "string", description: "The URL column (default url or image_url)"),
                Q(name: "caption_col", type: "string", description: "The caption column (default caption or title)"),
                Q(name: "hash_col", type: "string", description: "The SHA-256 column (default sha256 or hash)"),
            ],
            [
                201: json("Staged", "URLList"),
                400: json("No URL column, no rows, or not a list", "Error"),
                413: json("Larger than --max-list-bytes", "Error"),
                501: json("No list storage on this server", "Error"),
            ]),
        op(
            "GET", "/v1/lists", "The caller's URL lists, newest first", tag: "lists", query: paging, [200: json("A page", "Page")]
        ),
        op("GET", "/v1/lists/{id}", "One URL list of the caller's", tag: "lists", [200: json("URL list", "URLList")]),
        op("GET", "/v1/jobs/{id}", "A job with counters and per-keyword progress", tag: "jobs", [200: json("Job", "Job")]),
        op(
            "POST", "/v1/jobs/{id}/cancel", "Cancel a job", tag: "jobs",
            [200: json("Cancelled", "Job"), 409: json("Already finished", "Error")]),
        op(
            "POST", "/v1/jobs/{id}/retry-failed", "Put failed chunks back in the queue", tag: "jobs",
            [200: json("Retried", "Retry"), 409: json("Job cancelled", "Error")]),
        op(
            "GET", "/v1/jobs/{id}/errors", "Error records of a job by category", tag: "jobs",
            query: [APIBounds.errorLimit.parameter],
            [200: json("Summary", "ErrorSummary")]),
        op(
            "GET", "/v1/jobs/{id}/images", "A job's images (keyset pagination)", tag: "images",
            query: [
                Q(
                    name: "valid", type: "string", description: "Valid images, invalid ones or all",
                    values: ImageFilter.validValues),
                Q(
                    name: "format", type: "string", description: "Only images of this format",
                    values: ImageFormat.allCases.map(\.rawValue)),
                APIBounds.imageMinWidth.parameter, APIBounds.imageMinHeight.parameter, APIBounds.afterID.parameter,
                APIBounds.imageLimit.parameter,
            ], [200: json("Images", "Page"), 422: json("Unknown format", "Error")]),
        op("GET", "/v1/images/{id}", "One image", tag: "images", [200: json("Image", "Image")]),
        op(
            "GET", "/v1/images/{id}/file", "The stored image file", tag: "images",
            [200: R(description: "The image bytes", schema: nil, mediaType: "image/*")]),
        op(
            "GET", "/v1/images/{id}/thumbnail", "A JPEG thumbnail, at most 256 px on its longer side (cached, ETag)",
            tag: "images",
            [
                200: R(description: "The thumbnail", schema: nil, mediaType: "image/jpeg"),
                304: R(description: "Not modified (If-None-Match)", schema: nil, mediaType: ""),
                404: json("Not the caller's image, or its file is missing", "Error"),
            ]),

        op(
            "POST", "/v1/jobs/{id}/validations",
            "Re-validate a job's stored images under new rules (rules not given keep the job's); runs within the request",
            tag: "validations", body: "ValidationRequest",
            [201: json("Finished run", "Validation"), 501: json("Stored image files unavailable on this server", "Error")]),
        op("GET", "/v1/validations/{id}", "One validation run", tag: "validations", [200: json("Validation", "Validation")]),

        op(
            "POST", "/v1/jobs/{id}/exports", "Request an export of a job's images", tag: "exports", body: "ExportRequest",
            [202: json("Queued", "Export"), 501: json("Exports unavailable on this server", "Error")]),
        op(
            "GET", "/v1/jobs/{id}/exports", "A job's exports", tag: "exports",
            [200: json("Exports", "Page"), 501: json("Exports unavailable on this server", "Error")]),
        op(
            "GET", "/v1/exports/{id}", "An export's progress and download link", tag: "exports",
            [200: json("Export", "Export"), 501: json("Exports unavailable on this server", "Error")]),
        op(
            "POST", "/v1/exports/{id}/links", "Issue a download link (the token is shown once)", tag: "exports",
            body: "LinkRequest",
            [
                201: json("Issued", "DownloadLink"), 409: json("No published archive yet", "Error"),
                501: json("Exports unavailable on this server", "Error"),
            ]),
        op(
            "GET", "/downloads/{token}", "Download an export archive (Range supported)", tag: "exports", auth: false,
            [
                200: R(description: "The archive", schema: nil, mediaType: "application/octet-stream"),
                206: R(description: "The requested range", schema: nil, mediaType: "application/octet-stream"),
                304: R(description: "Not modified (If-None-Match)", schema: nil, mediaType: ""),
                404: json("Unknown token", "Error"),
                410: json("Link expired", "Error"),
                416: json("Range not satisfiable", "Error"),
            ]),
        op(
            "GET", "/downloads/{token}/{member}",
            "One shard (`shard-000000.tar`) or shard index (`shard-index.json`) of a WebDataset export (Range supported)",
            tag: "exports", auth: false,
            [
                200: R(description: "The shard or index", schema: nil, mediaType: "application/x-tar"),
                206: R(description: "The requested range", schema: nil, mediaType: "application/x-tar"),
                302: R(
                    description: "In object storage: redirect to the shard object's presigned URL, expiring with the link",
                    schema: nil, mediaType: ""),
                404: json("Unknown token, not a WebDataset export, or no such shard", "Error"),
                410: json("Link expired", "Error"),
                416: json("Range not satisfiable", "Error"),
            ]),

        op(
            "GET", "/", "Dashboard (sign-in form without a session)", tag: "dashboard", auth: false,
            [200: R(description: "HTML page", schema: nil, mediaType: "text/html")]),
        op(
            "POST", "/login", "Dashboard sign-in with a token (form field `token`); sets the session cookie",
            tag: "dashboard", auth: false,
            [
                303: R(description: "Signed in, back to /", schema: nil, mediaType: ""),
                401: R(description: "Unknown token: the form again", schema: nil, mediaType: "text/html"),
            ]),
        op(
            "POST", "/logout", "Dashboard sign-out", tag: "dashboard", auth: false,
            [303: R(description: "Signed out", schema: nil, mediaType: "")]),
        op(
            "POST", "/dashboard/exports/{id}/link", "Dashboard download button: issues a link and redirects to it",
            tag: "dashboard", auth: false,
            dashboardErrors.merging([
                303: R(description: "To /downloads/{token}", schema: nil, mediaType: ""),
                409: json("No published archive yet", "Error"), 501: json("Exports unavailable on this server", "Error"),
            ]) { $1 }),
        op(
            "POST", "/dashboard/jobs/{id}/exports",
            "Dashboard export form (the fields of ExportRequest)",
            tag: "dashboard", auth: false,
            dashboardErrors.merging([
                303: R(description: "Queued, to the job page", schema: nil, mediaType: ""),
                409: json("The job's exports are not available", "Error"),
                422: R(description: "The job page, the reason beside the field", schema: nil, mediaType: "text/html"),
                501: json("Exports unavailable on this server", "Error"),
            ]) { $1 }),
        op(
            "GET", "/signin/{code}", "One-time dashboard sign-in link (printed by `pixcrawl serve`); sets the session cookie",
            tag: "dashboard", auth: false,
            [
                303: R(description: "Signed in, to /", schema: nil, mediaType: ""),
                401: R(description: "Used or expired: the sign-in form", schema: nil, mediaType: "text/html"),
            ]),
        op(
            "GET", "/jobs/{id}", "Dashboard job page: progress chart, workers, thumbnail grid, reject examples, exports",
            tag: "dashboard", auth: false,
            query: [APIBounds.galleryBefore.parameter],
            [
                200: R(description: "HTML page (the sign-in form without a session)", schema: nil, mediaType: "text/html"),
                400: json("A bad gallery cursor", "Error"), 404: json("Not the caller's job", "Error"),
            ]),
        op(
            "POST", "/dashboard/jobs",
            "Dashboard form starting a crawl (fields: project or project_name, keywords, sources, max_images, rules)",
            tag: "dashboard", auth: false,
            [
                303: R(description: "Submitted, to the job page", schema: nil, mediaType: ""),
                401: json("Not signed in", "Error"),
                422: R(description: "The form again, the reason beside the field", schema: nil, mediaType: "text/html"),
            ]),
        op(
            "POST", "/dashboard/jobs/{id}/cancel", "Dashboard cancel button", tag: "dashboard", auth: false,
            dashboardErrors.merging([
                303: R(description: "Cancelled, to the job page", schema: nil, mediaType: ""),
                409: json("Already finished", "Error"),
            ]) { $1 }),
        op(
            "POST", "/dashboard/jobs/{id}/retry-failed", "Dashboard retry button: failed chunks back to pending",
            tag: "dashboard", auth: false,
            dashboardErrors.merging([
                303: R(description: "To the job page", schema: nil, mediaType: ""), 409: json("Job cancelled", "Error"),
            ]) { $1 }),
    ]
}
