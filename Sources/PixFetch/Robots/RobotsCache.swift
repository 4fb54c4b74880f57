import Synchronization

/// What the downloader learned from one origin's robots.txt.
enum RobotsEntry: Sendable {
    /// Rules to obey (parsed, or allow-all / disallow-all standing in for a missing or unreachable file).
    case rules(RobotsTxt, note: String)
    /// The robots.txt connection was refused by the address guard; the origin is blocked.
    case blocked(IPAddress, AddressClass)
}

/// robots.txt per origin for a downloader's lifetime. Concurrent requests for one origin share a single fetch.
final class RobotsCache: Sendable {
    private enum Slot {
        case loading([CheckedContinuation<Ticket, Never>])
        case ready(RobotsEntry)
    }

    private enum Ticket: Sendable {
        case ready(RobotsEntry)
        case load
        case retry
    }

    private let slots = Mutex<[String: Slot]>([:])

    /// The entry for `origin`, loading it with `load` when this caller is the first to ask.
    /// If the loading caller is cancelled, a waiting caller takes over the load.
    func entry(for origin: String, load: () async throws -> RobotsEntry) async throws -> RobotsEntry {
        while true {
            let ticket = await withCheckedContinuation { (continuation: CheckedContinuation<Ticket, Never>) in
                let immediate: Ticket? = slots.withLock { slots in
                    switch slots[origin] {
                    case .ready(let entry):
                        return .ready(entry)
                    case .loading(var waiters):
                        waiters.append(continuation)
                        slots[origin] = .loading(waiters)
                        return nil
                    case nil:
                        slots[origin] = .loading([])
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
                    let entry = try await load()
                    finish(origin, with: .ready(entry), keep: entry)
                    return entry
                } catch {
                    finish(origin, with: .retry, keep: nil)
                    throw error
                }
            }
        }
    }

    private func finish(_ origin: String, with ticket: Ticket, keep entry: RobotsEntry?) {
        let waiters = slots.withLock { slots -> [CheckedContinuation<Ticket, Never>] in
            guard case .loading(let waiters) = slots[origin] else { return [] }
            slots[origin] = entry.map { .ready($0) }
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: ticket) }
    }
}
