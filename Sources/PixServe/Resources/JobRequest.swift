import Foundation
import PixCoordinate
import PixCore
import PixSources

/// The body of `POST /v1/jobs`, as the client sends it. Decoding only: the coordinator's ``JobPlanner`` checks
/// and plans what it describes.
struct JobRequest: Decodable, Sendable {
    var projectID: Int64
    var name: String?
    var keywords: [String]
    var maxImages: Int
    var sources: [String]?
    var rules: RulesRequest?
    var chunkSize: Int?
    var overFetch: Double?
    var priority: Int?
    /// The widest image the job will use: Commons is asked for thumbnails this wide.
    var downloadWidth: Int?
    /// Column options for the `list:ID` sources that name none: the URL, caption and SHA-256 columns.
    var urlColumn: String?
    var captionColumn: String?
    var hashColumn: String?
    /// Columns of the list rows stored with each image (`["all"]` for every column).
    var keepColumns: [String]?
    /// Resize every accepted image as it is crawled: the export API's `resize` object, checked the same way.
    var resize: ResizeOptions?

    /// The sources a client may name (URL lists read files on the server's disk, so they stay a CLI feature).
    static let apiSourceNames = ["commons", "demo", "openverse"]

    /// A `list:ID` source as the document states it: the 64-digit id, optionally the columns as a query.
    static let listSourcePattern = "^list:[0-9a-f]{64}(\\?.*)?$"

    enum CodingKeys: String, CodingKey {
        case projectID = "project_id"
        case name, keywords
        case maxImages = "max_images"
        case sources, rules
        case chunkSize = "chunk_size"
        case overFetch = "over_fetch"
        case priority
        case downloadWidth = "download_width"
        case urlColumn = "url_col"
        case captionColumn = "caption_col"
        case hashColumn = "hash_col"
        case keepColumns = "keep_columns"
        case resize
    }

    /// The submission it describes; unset fields take ``PixCoordinate/JobSubmission``'s defaults, sources
    /// default to openverse.
    /// - Throws: ``APIError`` 422 for a rule that does not parse (an unknown format or depth name).
    func submission() throws -> JobSubmission {
        if let resize { try APIBounds.check(resize) }
        let defaults = JobSubmission(projectID: projectID, keywords: keywords, maxImages: maxImages, sources: [])
        return JobSubmission(
            projectID: projectID, name: name, keywords: keywords, maxImages: maxImages,
            sources: try Self.listSources(sources ?? ["openverse"], columns: listColumns()),
            rules: try rules?.applied(to: ValidationRules()) ?? ValidationRules(),
            chunkSize: chunkSize ?? defaults.chunkSize, overFetch: overFetch ?? defaults.overFetch,
            priority: priority ?? defaults.priority, downloadWidth: downloadWidth, resize: resize)
    }
}

extension JobRequest {
    /// The column options, for list sources naming none.
    /// - Throws: ``APIError`` 422 for an empty or overlong column name.
    func listColumns() throws -> URLListSource.Columns {
        let named = [("url_col", urlColumn), ("caption_col", captionColumn), ("hash_col", hashColumn)]
        for (field, value) in named {
            guard let value else { continue }
            try APIBounds.check(value, APIBounds.columnName, field: field)
        }
        return URLListSource.Columns(
            url: urlColumn, caption: captionColumn, hash: hashColumn,
            keep: URLListSource.Columns.kept(named: keepColumns ?? []))
    }

    /// `sources` with every `list:ID` checked and given `columns` when it names none.
    /// - Throws: ``APIError`` 422 for a malformed list source.
    static func listSources(_ sources: [String], columns: URLListSource.Columns) throws -> [String] {
        try sources.enumerated().map { index, source in
            let trimmed = source.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("list:") else { return source }
            guard case .list(let id, let named)? = try? SourceSpec(parsing: trimmed) else {
                throw APIError.validation(
                    field: "sources[\(index)]", reason: "must be list:ID with the 64-digit id POST /v1/lists answered")
            }
            return SourceSpec.list(id: id, columns: named == URLListSource.Columns() ? columns : named).description
        }
    }
}

/// Validation rules as the client sends them (in a job or a re-validation run); every field optional.
struct RulesRequest: Codable, Sendable, Hashable {
    var formats: [String]?
    var minWidth: Int?
    var minHeight: Int?
    var maxWidth: Int?
    var maxHeight: Int?
    var minBytes: Int?
    var maxBytes: Int?
    var minAspectRatio: Double?
    var maxAspectRatio: Double?
    /// How deeply images are checked: `header`, `full` (default) or `pixels`.
    var depth: String?

    enum CodingKeys: String, CodingKey {
        case formats
        case minWidth = "min_width"
        case minHeight = "min_height"
        case maxWidth = "max_width"
        case maxHeight = "max_height"
        case minBytes = "min_bytes"
        case maxBytes = "max_bytes"
        case minAspectRatio = "min_aspect_ratio"
        case maxAspectRatio = "max_aspect_ratio"
        case depth
    }

    /// `base` with the given rules set (unset fields keep `base`'s), checked by ``PixCore/ValidationRules/validate()``.
    /// - Throws: ``APIError`` 422 naming the rule at fault as `rules.FIELD`.
    func applied(to base: ValidationRules) throws -> ValidationRules {
        do throws(RuleError) {
            var result = base
            if let formats { result.formats = try ValidationRules.formats(named: formats) }
            if let depth { result.depth = try ValidationDepth(name: depth) }
            result.minWidth = minWidth ?? result.minWidth
            result.minHeight = minHeight ?? result.minHeight
            result.maxWidth = maxWidth ?? result.maxWidth
            result.maxHeight = maxHeight ?? result.maxHeight
            result.minBytes = minBytes ?? result.minBytes
            result.maxBytes = maxBytes ?? result.maxBytes
            result.minAspectRatio = minAspectRatio ?? result.minAspectRatio
            result.maxAspectRatio = maxAspectRatio ?? result.maxAspectRatio
            try result.validate()
            return result
        } catch {
            throw APIError.validation(field: "rules.\(error.field)", reason: error.reason)
        }
    }
}

extension APIError {
    /// A submission the planner refused: 422 naming its field.
    static func planning(_ error: PlanningError) -> APIError {
        .validation(field: error.field, reason: error.reason)
    }
}

extension SourceResolver {
    /// Resolves the sources a client may name over the API: everything `factory` builds except URL lists
    /// (`urls:PATH`), which read files on the server's disk and so stay a CLI feature.
    public static func api(_ factory: @escaping SourceFactory) -> SourceResolver {
        SourceResolver { spec in
            guard !spec.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("urls:") else {
                throw ServerFileSourceRefused()
            }
            return try factory(spec)
        }
    }
}

/// `urls:PATH` named over the API.
private struct ServerFileSourceRefused: Error, CustomStringConvertible {
    var description: String {
        "URL lists read files on the server and are a CLI feature; use \(JobRequest.apiSourceNames.joined(separator: ", "))"
    }
}
