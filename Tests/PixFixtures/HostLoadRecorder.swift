import Synchronization

/// One host as a polite crawler's counterpart sees it: serves images under a path prefix, timestamps every request
/// it handles, and records how many it was handling at once and how many bytes it sent — the figures a site
/// operator (Wikimedia's robot policy: 2 connections, a bandwidth cap) would check. It can also answer 429 with
/// `Retry-After` to see that the whole fleet then stays away.
public final class HostLoadRecorder: Sendable {
    /// One handled request.
    public struct Visit: Sendable, Hashable {
        /// When the request arrived.
        public var start: ContinuousClock.Instant
        /// When its answer was ready to be sent.
        public var end: ContinuousClock.Instant
        /// The answer's status.
        public var status: Int
        /// Body bytes of the answer.
        public var bytes: Int
    }

    private struct State {
        var active = 0
        var peak = 0
        var visits: [Visit] = []
        var tooManyRequests: (remaining: Int, retryAfter: Int) = (0, 0)
    }

    /// The path prefix served, `/host/`.
    public let prefix: String
    /// How long each request is held before it is answered (so overlapping connections can be observed).
    public let holdTime: Duration
    private let state = Mutex(State())

    /// Creates the recorder.
    /// - Parameters:
    ///   - prefix: the path prefix served (`/host/SEED.jpg?w=&h=`).
    ///   - holdTime: how long each request is held before its answer.
    public init(prefix: String = "/host/", holdTime: Duration = .milliseconds(30)) {
        self.prefix = prefix
        self.holdTime = holdTime
    }

    /// The route; add it to a ``FixtureServer``.
    public var route: FixtureRoute {
        FixtureRoute(.prefix(prefix), method: "GET") { [self] in answer($0) }
    }

    /// Answers the next `count` requests with 429 and `Retry-After: retryAfter`.
    public func respondTooManyRequests(times count: Int, retryAfter: Int) {
        state.withLock { $0.tooManyRequests = (count, retryAfter) }
    }

    /// The most requests handled at the same moment.
    public var peakConcurrency: Int { state.withLock { $0.peak } }

    /// Every handled request, in arrival order.
    public var visits: [Visit] { state.withLock { $0.visits.sorted { $0.start < $1.start } } }

    /// Bytes sent per second from the first arrival to the last answer; `nil` before two requests.
    public var byteRate: Double? {
        let visits = self.visits
        guard visits.count >= 2, let first = visits.first?.start, let last = visits.map(\.end).max() else {
            return nil
        }
        let (seconds, attoseconds) = first.duration(to: last).components
        let span = Double(seconds) + Double(attoseconds) / 1e18
        return span > 0 ? Double(visits.map(\.bytes).reduce(0, +)) / span : nil
    }

    private func answer(_ request: FixtureRequest) -> FixtureResponse {
        let start = ContinuousClock.now
        let retryAfter = state.withLock { state -> Int? in
            state.active += 1
            state.peak = max(state.peak, state.active)
            guard state.tooManyRequests.remaining > 0 else { return nil }
            state.tooManyRequests.remaining -= 1
            return state.tooManyRequests.retryAfter
        }
        FixtureServerClock.sleep(holdTime)
        let response =
            retryAfter.map { .status(429, headers: [.init("Retry-After", String($0))]) }
            ?? FixtureRoute.image(request)
        let bytes: Int
        switch response.body {
        case .bytes(let body): bytes = body.count
        case .filler(let count, _): bytes = count
        case .drip(let length, _, _): bytes = length
        }
        state.withLock { state in
            state.active -= 1
            state.visits.append(Visit(start: start, end: .now, status: response.status, bytes: bytes))
        }
        return response
    }
}
