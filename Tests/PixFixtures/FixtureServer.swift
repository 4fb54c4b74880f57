import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Why a ``FixtureServer`` could not start.
public struct FixtureServerError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidHost
        case socket
    }

    private let code: Code
    private let message: String

    /// The host is not an IPv4 or IPv6 address.
    static func invalidHost(_ host: String) -> FixtureServerError {
        FixtureServerError(code: .invalidHost, message: "'\(host)' is not an IP address; use e.g. 127.0.0.1")
    }

    /// A socket call failed.
    static func socket(_ call: String, host: String, port: UInt16) -> FixtureServerError {
        let reason = String(cString: strerror(errno))
        return FixtureServerError(
            code: .socket,
            message: "\(call) failed for \(host):\(port): \(reason); is the address configured and the port free?")
    }

    /// What went wrong and what to check.
    public var description: String { message }
}

/// A small HTTP/1.1 server for tests and the offline demo: the "fixture internet".
///
/// Binds a loopback address (port 0 picks a free port; ``port`` reports it), serves each connection on its own
/// thread with keep-alive and `Content-Length` framing, answers from a route table (``FixtureRoute/standard``
/// plus whatever a test adds; later routes win), and records every request. ``stop()`` closes the listener and
/// all connections and waits for their threads.
public final class FixtureServer: Sendable {
    /// The address the server listens on.
    public let host: String
    /// The port the server listens on.
    public let port: UInt16
    private let core: FixtureServerCore

    /// Starts a server.
    /// - Parameters:
    ///   - host: an IP address to bind (a loopback address for tests).
    ///   - port: the port, or 0 for a free one.
    ///   - routes: the initial route table.
    /// - Throws: ``FixtureServerError`` when the address cannot be bound.
    public init(host: String = "127.0.0.1", port: UInt16 = 0, routes: [FixtureRoute]) throws {
        let (listener, boundPort) = try Self.bindListener(host: host, port: port)
        self.host = host
        self.port = boundPort
        let authority = host.contains(":") ? "[\(host)]:\(boundPort)" : "\(host):\(boundPort)"
        core = FixtureServerCore(listener: listener, baseURL: "http://\(authority)", routes: routes)
        core.start()
    }

    deinit {
        core.stop()
    }

    /// `http://HOST:PORT`.
    public var baseURL: String { core.baseURL }

    /// An absolute URL on this server.
    /// - Parameter pathAndQuery: e.g. `/img/7.jpg?w=64`.
    public func url(_ pathAndQuery: String) -> String {
        baseURL + (pathAndQuery.hasPrefix("/") ? pathAndQuery : "/" + pathAndQuery)
    }

    /// Adds a route; it takes precedence over every route added before it.
    public func addRoute(_ route: FixtureRoute) {
        core.state.withLock { $0.routes.append(route) }
    }

    /// Adds a route built from a closure; it takes precedence over every route added before it.
    public func route(
        _ path: FixtureRoute.PathPattern, method: String? = nil,
        _ handler: @escaping @Sendable (FixtureRequest) -> FixtureResponse
    ) {
        addRoute(FixtureRoute(path, method: method, handler: handler))
    }

    /// Every request received so far, in arrival order.
    public var requests: [FixtureRequest] { core.state.withLock { $0.log } }

    /// How many requests for `path` (without query) were received.
    public func requestCount(path: String) -> Int {
        core.state.withLock { $0.counts[path, default: 0] }
    }

    /// How many requests were received in all.
    public var totalRequestCount: Int { core.state.withLock { $0.log.count } }

    /// How many TCP connections were accepted.
    public var connectionCount: Int { core.state.withLock { $0.connectionsAccepted } }

    /// Body bytes written for requests to `path` (without query), counted as they leave the server.
    public func bodyBytesSent(path: String) -> Int {
        core.state.withLock { $0.bodyBytesSent[path, default: 0] }
    }

    /// Stops listening, closes every connection and waits for their threads. Safe to call more than once.
    public func stop() {
        core.stop()
    }

    private static func bindListener(host: String, port: UInt16) throws -> (Int32, UInt16) {
        let isV6 = host.contains(":")
        let family = isV6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FixtureServerError.socket("socket", host: host, port: port) }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length: socklen_t
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
                close(fd)
                throw FixtureServerError.invalidHost(host)
            }
            withUnsafeBytes(of: address) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                close(fd)
                throw FixtureServerError.invalidHost(host)
            }
            withUnsafeBytes(of: address) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = FixtureServerError.socket("bind", host: host, port: port)
            close(fd)
            throw error
        }
        guard listen(fd, 256) == 0 else {
            let error = FixtureServerError.socket("listen", host: host, port: port)
            close(fd)
            throw error
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        let boundPort: UInt16 = withUnsafeBytes(of: actual) { raw in
            isV6
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
        return (fd, boundPort)
    }
}
