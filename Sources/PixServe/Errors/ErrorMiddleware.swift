import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PixExport
import PixStore

/// Turns every error a handler throws into a JSON `{error, field, reason}` response, in one place.
///
/// ``APIError``s pass through as they are; the store's invalid-input and not-found errors become 422 and
/// 404, the export stage's option and availability errors 422 and 409; Hummingbird's own errors keep their
/// status, except that a method a known path does not support is 405 with `Allow` (from ``APICatalog``)
/// rather than the router's 404; anything else is logged and answered with a 500 that names the request id
/// but no details.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            var apiError = Self.map(error, context: context)
            var allowed: [String] = []
            if let error = error as? any HTTPResponseError, error.status == .notFound,
                let methods = APICatalog.allowedMethods(forPath: request.uri.path)
            {
                allowed = methods
                apiError = .methodNotAllowed(request.method.rawValue, allowed: methods)
            }
            // The route template only: a raw path may carry a download token.
            let route = context.endpointPath ?? "unmatched"
            if apiError.status == .internalServerError {
                context.logger.error(
                    "request failed", metadata: ["pixcrawl.error": "\(error)", "http.route": "\(route)"])
            } else if let error = error as? ExportJobError, error.code == .archiveMissing {
                // Where the archive should be is for the operator's log, not for the caller.
                context.logger.warning(
                    "export archive missing", metadata: ["pixcrawl.error": "\(error)", "http.route": "\(route)"])
            }
            var response = try APIJSON.response(APIErrorBody(apiError), status: apiError.status)
            if apiError.status == .unauthorized {
                response.headers[.wwwAuthenticate] = "Bearer realm=\"pixcrawl\""
            }
            if !allowed.isEmpty { response.headers[.allow] = allowed.joined(separator: ", ") }
            return response
        }
    }

    static func map(_ error: any Error, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as StoreError where error.isInvalidInput:
            return .validation(field: error.subject, reason: error.detail)
        case let error as StoreError where error.isNotFound:
            return .notFound(error.subject ?? "resource")
        case let error as StoreError where error.isConnectionFailure:
            return .unavailable("the store is unreachable")
        case let error as ExportJobError where error.code == .invalidOptions:
            return .validation(field: nil, reason: error.description)
        case let error as ExportJobError where error.code == .notFound:
            return .notFound("export")
        case let error as ExportJobError where error.code == .archiveMissing:
            return .archiveMissing
        case let error as ExportJobError where error.code == .exportUnavailable || error.code == .notClaimable:
            return .conflict(error.description)
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound("route")
            case .contentTooLarge: return APIError(.payloadTooLarge, .contentTooLarge, reason: "the request body is too large")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, .methodNotAllowed, reason: "method not allowed on this route")
            case .badRequest: return .invalidParameter("request", reason: "the request could not be read")
            default: return APIError(.internalError, error.status, reason: error.status.reasonPhrase)
            }
        default:
            return .internalError(requestID: context.id)
        }
    }
}
