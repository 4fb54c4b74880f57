import HTTPTypes

/// An error the API answers with a JSON body `{error, field, reason}`.
///
/// Every failure a client can cause is one of these; ``ErrorMiddleware`` turns them (and store and
/// framework errors) into responses in one place.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: String, Sendable, Hashable {
        case malformedJSON = "malformed_json"
        case invalidType = "invalid_type"
        case invalidParameter = "invalid_parameter"
        case validationFailed = "validation_failed"
        case payloadTooLarge = "payload_too_large"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case gone
        case conflict
        case rangeNotSatisfiable = "range_not_satisfiable"
        case unsupportedMediaType = "unsupported_media_type"
        case notImplemented = "not_implemented"
        case unavailable
        case internalError = "internal_error"
    }

    let code: Code
    /// The HTTP status the error answers with.
    public let status: HTTPResponse.Status
    /// The request field at fault (`keywords`, `rules.formats[0]`), when there is one.
    public let field: String?
    /// What is wrong, for a person to act on.
    public let reason: String

    init(_ code: Code, _ status: HTTPResponse.Status, field: String? = nil, reason: String) {
        self.code = code
        self.status = status
        self.field = field
        self.reason = reason
    }

    /// The machine-readable error name in the body (`validation_failed`, `not_found`, …).
    public var error: String { code.rawValue }

    public var description: String {
        "\(status.code) \(code.rawValue)" + (field.map { " (\($0))" } ?? "") + ": \(reason)"
    }

    /// The body was not JSON at all.
    public static func malformedJSON(_ reason: String) -> APIError {
        APIError(.malformedJSON, .badRequest, reason: reason)
    }
    /// A field had the wrong JSON type.
    public static func invalidType(field: String, reason: String) -> APIError {
        APIError(.invalidType, .badRequest, field: field, reason: reason)
    }
    /// A query or path parameter could not be read.
    public static func invalidParameter(_ field: String, reason: String) -> APIError {
        APIError(.invalidParameter, .badRequest, field: field, reason: reason)
    }
    /// Well-formed input whose value is refused (empty keywords, out of range, unknown format).
    public static func validation(field: String?, reason: String) -> APIError {
        APIError(.validationFailed, .unprocessableContent, field: field, reason: reason)
    }
    /// The body is larger than the configured limit.
    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.payloadTooLarge, .contentTooLarge, reason: "the request body is larger than \(limit) bytes")
    }
    /// No token, or one that is unknown or revoked.
    public static func unauthorized(_ reason: String) -> APIError {
        APIError(.unauthorized, .unauthorized, reason: reason)
    }
    /// The caller is known but may not do this.
    public static func forbidden(_ reason: String) -> APIError {
        APIError(.forbidden, .forbidden, reason: reason)
    }
    /// The resource does not exist, or belongs to someone else.
    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, .notFound, reason: "\(what) not found")
    }
    /// The path exists but not with this method; the answer's `Allow` header lists `allowed`.
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(
            .methodNotAllowed, .methodNotAllowed,
            reason: "\(method) is not supported here; use \(allowed.joined(separator: ", "))")
    }
    /// The resource existed but is no longer available (an expired download).
    public static func gone(_ reason: String) -> APIError {
        APIError(.gone, .gone, reason: reason)
    }
    /// The request conflicts with the resource's state.
    public static func conflict(_ reason: String) -> APIError {
        APIError(.conflict, .conflict, reason: reason)
    }
    /// An export's archive is gone from storage; where it was stays in the server's log.
    public static let archiveMissing = APIError.conflict("the export's archive is missing from storage; run the export again")
    /// A `Range` header that does not fit the content.
    public static func rangeNotSatisfiable(size: Int) -> APIError {
        APIError(.rangeNotSatisfiable, .rangeNotSatisfiable, field: "Range", reason: "the content is \(size) bytes long")
    }
    /// The body's media type is not accepted.
    public static func unsupportedMediaType(_ reason: String) -> APIError {
        APIError(.unsupportedMediaType, .unsupportedMediaType, reason: reason)
    }
    /// A capability this server was started without.
    public static func notImplemented(_ reason: String) -> APIError {
        APIError(.notImplemented, .notImplemented, reason: reason)
    }
    /// A dependency (the store) is unavailable.
    public static func unavailable(_ reason: String) -> APIError {
        APIError(.unavailable, .serviceUnavailable, reason: reason)
    }
    /// Anything unexpected; the details go to the log, not to the client.
    public static func internalError(requestID: String) -> APIError {
        APIError(.internalError, .internalServerError, reason: "unexpected server error (request \(requestID))")
    }
}

/// The JSON body of every error response.
struct APIErrorBody: Codable, Sendable, Hashable {
    var error: String
    var field: String?
    var reason: String

    init(_ error: APIError) {
        self.error = error.error
        self.field = error.field
        self.reason = error.reason
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(error, forKey: .error)
        try container.encode(field, forKey: .field)  // always present, null when no field is at fault
        try container.encode(reason, forKey: .reason)
    }
}
