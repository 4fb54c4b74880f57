import Foundation
import PixCore
import PixStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of the test PostgreSQL server that can lose the reply to a COMMIT: the statement is
/// forwarded (so the server commits), then the client's connection is cut before the server's answer reaches
/// it — what a client sees when a network path or a proxy fails at the worst moment.
public final class LostCommitProxy: Sendable {
    /// The loopback port clients connect to.
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var armed = false
        var lostReplies = 0
        var sockets: Set<Int32> = []
        var closed = false
    }

    /// The bytes libpq sends for `PQexec(connection, "COMMIT")`: a simple Query message.
    private static let commitMessage: [UInt8] = [UInt8(ascii: "Q"), 0, 0, 0, 11] + Array("COMMIT".utf8) + [0]

    /// Starts listening on a free loopback port, forwarding to the test server's port.
    public init() throws {
        guard let upstream = URLComponents(string: try TestPostgres.baseURL())?.port else {
            throw ProxyError("the test database URL names no port")
        }
        upstreamPort = upstream
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ProxyError("socket() failed") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            Glibc.close(listener)
            throw ProxyError("cannot listen on loopback")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        NativeThread.detached(name: "test.proxy") { [self] in acceptLoop(listener) }
    }

    /// A store location on a fresh schema whose connections all go through this proxy.
    public func location() throws -> DatabaseLocation {
        guard var url = URLComponents(string: try TestPostgres.baseURL()) else {
            throw ProxyError("the test database URL is not a URL")
        }
        url.port = port
        return try DatabaseLocation.parse(url.string ?? "", schema: TestStores.freshName())
    }

    /// Makes the next COMMIT that passes through reach the server and its reply go missing.
    public func loseNextCommitReply() {
        state.withLock { $0.armed = true }
    }

    /// How many COMMIT replies were lost so far.
    public var lostReplies: Int { state.withLock { $0.lostReplies } }

    /// Stops listening and cuts every proxied connection; the accept loop ends and closes the listener. Closing it
    /// here would free the descriptor's number while the loop may still call `accept` with it: a socket another test
    /// opens next reuses the number, and this loop would take that socket's connections.
    public func close() {
        let sockets = state.withLock { state -> Set<Int32> in
            state.closed = true
            return state.sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(_ listener: Int32) {
        defer { Glibc.close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.closed, connected == 0 else { return false }
                state.sockets.formUnion([client, server])
                return true
            }
            guard admitted else {
                Glibc.close(client)
                Glibc.close(server)
                continue
            }
            let link = Link(client: client, server: server)
            NativeThread.detached(name: "test.proxy.up") { [self] in pumpRequests(link) }
            NativeThread.detached(name: "test.proxy.down") { [self] in pumpReplies(link) }
        }
    }

    /// One proxied connection; after a lost reply both of its sockets are shut down.
    private final class Link: Sendable {
        let client: Int32
        let server: Int32
        let dropReply = Atomic<Bool>(false)
        let pumpsLeft = Atomic<Int>(2)
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
    }

    private func pumpRequests(_ link: Link) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(link.client, &buffer, buffer.count)
            if count <= 0 { break }
            let chunk = buffer[0..<count]
            let isCommit = chunk.count >= Self.commitMessage.count && Self.contains(chunk, Self.commitMessage)
            if isCommit {
                let lose = state.withLock { state -> Bool in
                    defer { state.armed = false }
                    return state.armed
                }
                if lose { link.dropReply.store(true, ordering: .sequentiallyConsistent) }
            }
            if !Self.writeAll(link.server, chunk) { break }
        }
        finish(link)
    }

    private func pumpReplies(_ link: Link) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(link.server, &buffer, buffer.count)
            if count <= 0 { break }
            if link.dropReply.load(ordering: .sequentiallyConsistent) {
                // The server answered the COMMIT: it has committed. The client never hears of it.
                state.withLock { $0.lostReplies += 1 }
                break
            }
            if !Self.writeAll(link.client, buffer[0..<count]) { break }
        }
        finish(link)
    }

    private func finish(_ link: Link) {
        shutdown(link.client, Int32(SHUT_RDWR))
        shutdown(link.server, Int32(SHUT_RDWR))
        // The other pump is unblocked by the shutdowns; the second to get here closes the sockets.
        guard link.pumpsLeft.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 else { return }
        state.withLock { state in
            state.sockets.remove(link.client)
            state.sockets.remove(link.server)
        }
        Glibc.close(link.client)
        Glibc.close(link.server)
    }

    private static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    private static func writeAll(_ socket: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private struct ProxyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
