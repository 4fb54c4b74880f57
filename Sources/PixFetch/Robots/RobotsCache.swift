import Synchronization

/// What the downloader learned from one origin's robots.txt.
enum RobotsEntry: Sendable {
    /// Rules to obey (parsed, or allow-all / disallow-all standing in for a missing or unreachable file),
    /// compiled for the crawler's product token.
    case rules(RobotsTxt.CompiledRules, note: String)
    /// The robots.txt connection was refused by the address guard; the origin is blocked.
    case blocked(IPAddress, AddressClass)
}

/// robots.txt per origin: a bounded LRU whose entries expire. Concurrent requests for one origin share a single
/// fetch.
///
/// Each loaded entry carries its own lifetime (a parsed file a day, a transient failure minutes), capped at
/// ``maxLifetime`` (RFC 9309 §2.4: at most 24 hours). At most ``capacity`` origins are kept; the least recently
/// used ready entry is dropped to make room.
final class RobotsCache: Sendable {
    /// The longest an entry is kept, whatever its loader asks.
    static let maxLifetime: Duration = .seconds(24 * 60 * 60)

    private enum Slot {
        case loading([CheckedContinuation<Ticket, Never>])
        case ready(RobotsEntry, expires: ContinuousClock.Instant, lastUse: UInt64)
    }

    private enum Ticket: Sendable {
        case ready(RobotsEntry)
        case load
        case retry
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var uses: UInt64 = 0
    }

    /// The most origins kept at once.
    let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

    /// Creates a cache.
    /// - Parameters:
    ///   - capacity: the most origins kept at once (at least 1).
    ///   - now: the clock entries expire by; tests inject their own.
    init(capacity: Int = 10_000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// The number of origins held (ready or loading).
    var count: Int { state.withLock { $0.slots.count } }

    /// The entry for `origin`, loading it with `load` when this caller is the first to ask or the held entry has
    /// expired. `load` returns the entry and how long it may be kept. If the loading caller is cancelled, a
    /// waiting caller takes over the load.
    func entry(
        for origin: String, load: () async throws -> (entry: RobotsEntry, lifetime: Duration)
    ) async throws -> RobotsEntry {
        while true {
            let ticket = await withCheckedContinuation { (continuation: CheckedContinuation<Ticket, Never>) in
                let instant = now()
                let immediate: Ticket? = state.withLock { state in
                    switch state.slots[origin] {
                    case .ready(let entry, let expires, _) where instant < expires:
                        state.uses += 1
                        state.slots[origin] = .ready(entry, expires: expires, lastUse: state.uses)
                        return .ready(entry)
                    case .loading(var waiters):
                        waiters.append(continuation)
                        state.slots[origin] = .loading(waiters)
                        return nil
                    case .ready, nil:
                        state.slots[origin] = .loading([])
                        return .load
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            switch ticket {
            case .ready(let entry):
                return entry
            case .retry:
                continue
            case .load:
                do {
                    let loaded = try await load()
                    let lifetime = min(max(loaded.lifetime, .zero), Self.maxLifetime)
                    finish(origin, with: .ready(loaded.entry), keep: (loaded.entry, now() + lifetime))
                    return loaded.entry
                } catch {
                    finish(origin, with: .retry, keep: nil)
                    throw error
                }
            }
        }
    }

    private func finish(
        _ origin: String, with ticket: Ticket, keep: (entry: RobotsEntry, expires: ContinuousClock.Instant)?
    ) {
        let waiters = state.withLock { state -> [CheckedContinuation<Ticket, Never>] in
            guard case .loading(let waiters) = state.slots[origin] else { return [] }
            if let keep {
                state.uses += 1
                state.slots[origin] = .ready(keep.entry, expires: keep.expires, lastUse: state.uses)
                Self.evict(&state, capacity: capacity, sparing: origin)
            } else {
                state.slots[origin] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: ticket) }
    }

    /// Drops least recently used ready entries until at most `capacity` origins are held. Loading slots stay
    /// (callers wait on them).
    private static func evict(_ state: inout State, capacity: Int, sparing origin: String) {
        while state.slots.count > capacity {
            var oldest: (key: String, lastUse: UInt64)?
            for (key, slot) in state.slots where key != origin {
                guard case .ready(_, _, let lastUse) = slot, lastUse < oldest?.lastUse ?? .max else { continue }
                oldest = (key, lastUse)
            }
            guard let oldest else { return }
            state.slots[oldest.key] = nil
        }
    }
}
