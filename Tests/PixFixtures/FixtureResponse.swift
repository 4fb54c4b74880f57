/// How a fixture response's body is sent.
public enum FixtureBody: Sendable, Hashable {
    /// Fixed bytes with a `Content-Length`.
    case bytes([UInt8])
    /// `count` filler bytes generated while sending, with a `Content-Length` when `declaresLength`, otherwise
    /// ended by closing the connection. For bodies larger than a cap.
    case filler(count: Int, declaresLength: Bool)
    /// A slow drip that never finishes: declares `declaredLength`, then sends `chunk` every `interval` until the
    /// client gives up or the server stops.
    case drip(declaredLength: Int, chunk: [UInt8], interval: Duration)
}

/// A fixture route's answer.
public struct FixtureResponse: Sendable, Hashable {
    /// One header field.
    public struct Header: Sendable, Hashable {
        /// The field name.
        public var name: String
        /// The field value.
        public var value: String

        /// Creates a header field.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The status code.
    public var status: Int
    /// Header fields (`Content-Length` and `Connection` are added by the server).
    public var headers: [Header]
    /// The body.
    public var body: FixtureBody

    /// Creates a response.
    public init(status: Int = 200, headers: [Header] = [], body: FixtureBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Bytes with a content type.
    public static func bytes(
        _ bytes: [UInt8], contentType: String, status: Int = 200, headers: [Header] = []
    ) -> FixtureResponse {
        FixtureResponse(status: status, headers: [Header("Content-Type", contentType)] + headers, body: .bytes(bytes))
    }

    /// A UTF-8 text body.
    public static func text(
        _ text: String, contentType: String = "text/plain; charset=utf-8", status: Int = 200,
        headers: [Header] = []
    ) -> FixtureResponse {
        bytes(Array(text.utf8), contentType: contentType, status: status, headers: headers)
    }

    /// A JSON body (`application/json`), e.g. an Openverse- or Commons-shaped search result.
    public static func json(_ text: String, status: Int = 200, headers: [Header] = []) -> FixtureResponse {
        bytes(Array(text.utf8), contentType: "application/json", status: status, headers: headers)
    }

    /// A status with a one-line text body naming it.
    public static func status(_ status: Int, headers: [Header] = []) -> FixtureResponse {
        text("\(status) \(reasonPhrase(status))\n", status: status, headers: headers)
    }

    /// A redirect to `location`.
    public static func redirect(to location: String, status: Int = 302) -> FixtureResponse {
        FixtureResponse(status: status, headers: [Header("Location", location)], body: .bytes([]))
    }

    /// The standard reason phrase of a status code.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
