import PixCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The listener, connection threads and shared state behind a ``FixtureServer``.
final class FixtureServerCore: Sendable {
    struct State: Sendable {
        var routes: [FixtureRoute]
        var log: [FixtureRequest] = []
        var counts: [String: Int] = [:]
        var bodyBytesSent: [String: Int] = [:]
        var connectionsAccepted = 0
        var openConnections: Set<Int32> = []
        var liveConnections = 0
        var acceptThread: NativeThread?
        var stopped = false
    }

    let listener: Int32
    let baseURL: String
    let state: Mutex<State>
    private let stopping = StopFlag()

    init(listener: Int32, baseURL: String, routes: [FixtureRoute]) {
        self.listener = listener
        self.baseURL = baseURL
        state = Mutex(State(routes: routes))
    }

    func start() {
        let thread = NativeThread.start(name: "fixture.accept") { [self] in acceptLoop() }
        state.withLock { $0.acceptThread = thread }
    }

    func stop() {
        let acceptThread: NativeThread?? = state.withLock { state in
            guard !state.stopped else { return .none }
            state.stopped = true
            stopping.raise()
            _ = shutdown(listener, Int32(SHUT_RDWR))
            for fd in state.openConnections { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            defer { state.acceptThread = nil }
            return .some(state.acceptThread)
        }
        guard case .some(let thread) = acceptThread else { return }
        thread?.join()
        close(listener)
        for _ in 0..<10_000 where state.withLock({ $0.liveConnections }) > 0 {
            usleep(1000)
        }
    }

    private var isStopping: Bool { stopping.isRaised }

    // MARK: - Accepting

    private func acceptLoop() {
        while !isStopping {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if isStopping { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                usleep(10_000)  // EMFILE and friends: back off and try again
                continue
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.openConnections.insert(fd)
                state.connectionsAccepted += 1
                state.liveConnections += 1
                return true
            }
            guard admitted else {
                close(fd)
                return
            }
            var noDelay: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            NativeThread.detached(name: "fixture.connection") { [self] in
                serve(fd)
                state.withLock { state in
                    state.openConnections.remove(fd)
                    close(fd)
                    state.liveConnections -= 1
                }
            }
        }
    }

    // MARK: - One connection

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        func receive() -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        while !isStopping {
            var headEnd = Self.headEnd(in: buffer)
            while headEnd == nil {
                guard buffer.count < 1 << 20, receive() else { return }
                headEnd = Self.headEnd(in: buffer)
            }
            guard let headEnd, let head = Self.parseHead(buffer[..<headEnd]) else { return }
            let contentLength = head.headers["content-length"].flatMap { Int($0) } ?? 0
            let bodyStart = headEnd + 4
            while buffer.count < bodyStart + contentLength {
                guard receive() else { return }
            }
            let body = Array(buffer[bodyStart..<(bodyStart + contentLength)])
            buffer.removeFirst(bodyStart + contentLength)

            let (request, route) = state.withLock { state -> (FixtureRequest, FixtureRoute?) in
                let path = String(head.target.split(separator: "?", maxSplits: 1).first ?? "/")
                state.counts[path, default: 0] += 1
                let request = FixtureRequest(
                    method: head.method, target: head.target, headers: head.headers, body: body,
                    sequence: state.counts[path]!, baseURL: baseURL)
                state.log.append(request)
                return (request, state.routes.last { $0.matches(request) })
            }
            let response = route?.handler(request) ?? .status(404)
            let clientWantsClose =
                head.headers["connection"]?.lowercased() == "close"
                || (head.version == "HTTP/1.0" && head.headers["connection"]?.lowercased() != "keep-alive")
            guard write(response, for: request, fd: fd, keepAlive: !clientWantsClose) else { return }
        }
    }

    /// Sends a response; returns whether the connection may serve another request.
    private func write(_ response: FixtureResponse, for request: FixtureRequest, fd: Int32, keepAlive: Bool) -> Bool {
        var keepAlive = keepAlive
        var head = "HTTP/1.1 \(response.status) \(FixtureResponse.reasonPhrase(response.status))\r\n"
        for header in response.headers { head += "\(header.name): \(header.value)\r\n" }
        switch response.body {
        case .bytes(let bytes):
            head += "Content-Length: \(bytes.count)\r\n"
        case .filler(let count, let declaresLength):
            if declaresLength {
                head += "Content-Length: \(count)\r\n"
            } else {
                keepAlive = false
            }
        case .drip(let declaredLength, _, _):
            head += "Content-Length: \(declaredLength)\r\n"
            keepAlive = false
        }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        guard sendAll(fd, Array(head.utf8)) else { return false }
        if request.method == "HEAD" { return keepAlive }

        switch response.body {
        case .bytes(let bytes):
            guard sendBody(fd, bytes, path: request.path) else { return false }
        case .filler(let count, _):
            let pattern = (0..<(64 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var remaining = count
            while remaining > 0 && !isStopping {
                let piece = min(remaining, pattern.count)
                guard sendBody(fd, Array(pattern[0..<piece]), path: request.path) else { return false }
                remaining -= piece
            }
        case .drip(_, let chunk, let interval):
            let sliceMicroseconds = UInt32(min(max(interval.milliseconds, 1), 50) * 1000)
            while !isStopping {
                guard sendBody(fd, chunk, path: request.path) else { return false }
                var waited: Int64 = 0
                while waited < interval.milliseconds && !isStopping {
                    usleep(sliceMicroseconds)
                    waited += Int64(sliceMicroseconds / 1000)
                }
            }
            return false
        }
        return keepAlive
    }

    private func sendBody(_ fd: Int32, _ bytes: [UInt8], path: String) -> Bool {
        let sent = sendAll(fd, bytes)
        state.withLock { $0.bodyBytesSent[path, default: 0] += sent ? bytes.count : 0 }
        return sent
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    // MARK: - Parsing

    private struct Head {
        var method: String
        var target: String
        var version: String
        var headers: [String: String]
    }

    private static func headEnd(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Head? {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let requestLine = lines.popFirst() else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        return Head(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: headers)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, never negative.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
