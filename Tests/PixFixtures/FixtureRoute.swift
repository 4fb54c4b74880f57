import PixDemo

/// One entry of a ``FixtureServer``'s route table: which requests it answers and how.
public struct FixtureRoute: Sendable {
    /// Which paths a route answers (the query is not part of the match).
    public enum PathPattern: Sendable, Hashable {
        /// Exactly this path, e.g. `/robots.txt`.
        case exact(String)
        /// Every path starting with this prefix, e.g. `/img/`.
        case prefix(String)

        func matches(_ path: String) -> Bool {
            switch self {
            case .exact(let wanted): path == wanted
            case .prefix(let prefix): path.hasPrefix(prefix)
            }
        }
    }

    /// The method answered, or `nil` for any (`HEAD` is answered like `GET`, without the body).
    public var method: String?
    /// The paths answered.
    public var path: PathPattern
    /// Builds the response; called on the connection's thread.
    public var handler: @Sendable (FixtureRequest) -> FixtureResponse

    /// Creates a route.
    /// - Parameters:
    ///   - path: the paths answered.
    ///   - method: the method answered, or `nil` for any.
    ///   - handler: builds the response for a request.
    public init(
        _ path: PathPattern, method: String? = nil, handler: @escaping @Sendable (FixtureRequest) -> FixtureResponse
    ) {
        self.path = path
        self.method = method
        self.handler = handler
    }

    func matches(_ request: FixtureRequest) -> Bool {
        guard path.matches(request.path) else { return false }
        guard let method else { return true }
        return method == request.method || (method == "GET" && request.method == "HEAD")
    }
}

extension FixtureRoute {
    /// The seed a path stem names: the number itself, or a stable hash of the text (as the demo's).
    public static func seed(of stem: String) -> UInt64 {
        DemoCorpus.seed(of: stem)
    }
}
