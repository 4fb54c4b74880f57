import Foundation

/// JSON bodies for the provider fixtures, written with Foundation's serializer (sorted keys, so bodies are
/// deterministic).
enum FixtureJSON {
    /// A JSON null.
    static var null: Any { NSNull() }

    /// Serializes a JSON object or array.
    static func encode(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            preconditionFailure("fixture JSON is not serializable: \(value)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A `application/json` response.
    static func response(_ value: Any, status: Int = 200, headers: [FixtureResponse.Header] = []) -> FixtureResponse {
        .json(encode(value), status: status, headers: headers)
    }

    /// A body that starts like JSON and breaks off: what a proxy's truncated or garbled answer looks like.
    static let malformed = FixtureResponse.json(#"{"result_count": 3, "results": [{"url": "http://"#)
}
