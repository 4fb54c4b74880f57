import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Encoding and decoding of API bodies: snake_case keys, ISO-8601 dates, and decoding errors turned into
/// ``APIError``s that name the field at fault.
public enum APIJSON {
    /// The encoder every JSON response uses.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The decoder API clients read responses with (tests, the CLI).
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// A JSON response with `status`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        let data = try makeEncoder().encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads the request body (at most `limit` bytes) and decodes it.
    ///
    /// Request types declare their snake_case keys themselves, so a decoding error's coding path is the
    /// JSON field the client sent.
    /// - Throws: ``APIError`` 413 over the limit, 415 for a body that is not JSON, 400 for malformed JSON
    ///   or a wrong type, 422 for a missing required field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.payloadTooLarge(limit: limit)
        }
        if let contentType = request.headers[.contentType]?.lowercased(), !contentType.hasPrefix("application/json") {
            throw APIError.unsupportedMediaType("send the body as application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: limit)
        }
        let data = Data(buffer.readableBytesView)
        if data.isEmpty { throw APIError.malformedJSON("the request body is empty; send a JSON object") }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw apiError(from: error)
        }
    }

    /// Maps a decoding failure to the field it concerns.
    static func apiError(from error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            var result = ""
            for key in codingPath {
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return result
        }
        switch error {
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .malformedJSON("the body must be a JSON object") }
            return .invalidType(field: field, reason: "must be \(jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return .validation(field: field.isEmpty ? nil : field, reason: "must be \(jsonTypeName(type)), not null")
        case .keyNotFound(let key, let context):
            return .validation(field: path(context.codingPath + [key]), reason: "is required")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .malformedJSON("the body is not valid JSON") }
            return .invalidType(field: field, reason: context.debugDescription)
        @unknown default:
            return .malformedJSON("the body could not be read")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [String].Type, is [Any].Type: "an array"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

/// A JSON response body with a status, usable as a route's return value.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIJSON.response(value, status: status)
    }
}
