/// One request received by a ``FixtureServer``, as handlers and the request log see it.
public struct FixtureRequest: Sendable, Hashable {
    /// The method, e.g. `GET`.
    public let method: String
    /// The request target as sent: path and query, e.g. `/img/7.jpg?w=64`.
    public let target: String
    /// The path without the query, e.g. `/img/7.jpg`.
    public let path: String
    /// Query parameters, percent-decoded (the last value wins for repeated names).
    public let query: [String: String]
    /// Header fields with lowercased names; repeated fields are joined with `", "`.
    public let headers: [String: String]
    /// The request body (for `POST`).
    public let body: [UInt8]
    /// How many requests for this path the server has received, this one included (1 for the first).
    /// Lets a route answer differently on later attempts (429 then 200).
    public let sequence: Int
    /// `http://HOST:PORT` of the server that received the request.
    public let baseURL: String

    /// Creates a request record.
    public init(
        method: String, target: String, headers: [String: String], body: [UInt8] = [], sequence: Int = 1,
        baseURL: String
    ) {
        self.method = method
        self.target = target
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "/")
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.percentDecode(keyValue[0])
                query[key] = keyValue.count == 2 ? Self.percentDecode(keyValue[1]) : ""
            }
        }
        self.query = query
        self.headers = headers
        self.body = body
        self.sequence = sequence
        self.baseURL = baseURL
    }

    /// The last path component without its extension (`/img/42.jpg` → `42`).
    public var stem: String {
        let last = path.split(separator: "/").last.map(String.init) ?? ""
        guard let dot = last.lastIndex(of: ".") else { return last }
        return String(last[..<dot])
    }

    /// An integer query parameter, or `fallback` when absent or not a number.
    public func intQuery(_ name: String, default fallback: Int) -> Int {
        query[name].flatMap { Int($0) } ?? fallback
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
