import Synchronization

/// An OAuth2 bearer token shared by every request of one source: fetched once, reused until it nears expiry,
/// replaced when the server refuses it. Concurrent callers that need a new token wait for a single request.
final class BearerTokenStore: Sendable {
    /// One issued token.
    struct Token: Sendable, Hashable {
        let value: String
        let expiresAt: ContinuousClock.Instant
        /// Increases with every token this store obtains.
        let serial: Int
    }

    private struct State {
        var token: Token?
        var pending: Task<Token, any Error>?
        var serial = 0
    }

    private let state = Mutex(State())
    private let refreshMargin: Duration

    /// - Parameter refreshMargin: a token is replaced this long before it expires.
    init(refreshMargin: Duration) {
        self.refreshMargin = refreshMargin
    }

    /// A token valid for at least the refresh margin; calls `obtain` (value and lifetime) when there is none.
    func token(obtain: @escaping @Sendable () async throws -> (value: String, lifetime: Duration)) async throws
        -> Token
    {
        enum Next {
            case ready(Token)
            case wait(Task<Token, any Error>)
        }
        let next = state.withLock { state -> Next in
            if let token = state.token, ContinuousClock.now.advanced(by: refreshMargin) < token.expiresAt {
                return .ready(token)
            }
            if let pending = state.pending { return .wait(pending) }
            state.serial += 1
            let serial = state.serial
            let task = Task<Token, any Error> {
                let (value, lifetime) = try await obtain()
                return Token(value: value, expiresAt: ContinuousClock.now.advanced(by: lifetime), serial: serial)
            }
            state.pending = task
            return .wait(task)
        }
        switch next {
        case .ready(let token):
            return token
        case .wait(let task):
            let result = await task.result
            state.withLock { state in
                guard state.pending == task else { return }
                state.pending = nil
                if case .success(let token) = result { state.token = token }
            }
            return try result.get()
        }
    }

    /// Forgets `token` after the server refused it, so the next caller obtains a new one. A newer token is kept.
    func invalidate(_ token: Token) {
        state.withLock { state in
            if state.token?.serial == token.serial { state.token = nil }
        }
    }
}
