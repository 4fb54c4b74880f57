import CCurl
import CPixCurl
import PixCore
import Synchronization

/// Drives every transfer of one ``Downloader`` through a libcurl multi handle on one dedicated thread.
///
/// Async callers hand work over through a lock-protected inbox and wake the thread with `curl_multi_wakeup`;
/// the thread adds transfers while the global and per-host limits allow, runs `curl_multi_perform` /
/// `curl_multi_poll`, and resumes each caller's continuation when its transfer is done.
final class CurlEngine: Sendable {
    /// The multi handle, shared with the libcurl thread.
    // @unchecked: only curl_multi_wakeup, documented thread-safe, is called on it off the libcurl thread.
    struct MultiHandle: @unchecked Sendable {
        let raw: UnsafeMutableRawPointer
    }

    /// A transfer waiting in the inbox.
    struct Submission: Sendable {
        let id: UInt64
        let spec: TransferSpec
        let continuation: CheckedContinuation<TransferResult, any Error>
    }

    enum Phase: Sendable {
        case running
        case stopping
        case stopped
    }

    struct Inbox: Sendable {
        var submissions: [Submission] = []
        var cancellations: [UInt64] = []
        var phase: Phase = .running
        var nextID: UInt64 = 0
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var thread: NativeThread?
    }

    let multi: MultiHandle
    let inbox = Mutex(Inbox())
    let maxConcurrent: Int
    let maxPerHost: Int

    /// Creates the multi handle and starts the libcurl thread.
    init(maxConcurrent: Int, maxPerHost: Int) throws(FetchError) {
        let initResult = cpix_curl_global_init_once()
        guard initResult == CURLE_OK else {
            throw FetchError(
                .transferFailed, url: "",
                reason: "libcurl failed to initialise: \(String(cString: curl_easy_strerror(initResult)))")
        }
        guard let raw = curl_multi_init() else {
            throw FetchError(.transferFailed, url: "", reason: "libcurl could not create a multi handle")
        }
        multi = MultiHandle(raw: raw)
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxPerHost = max(1, maxPerHost)
        _ = cpix_curl_multi_setopt_long(raw, CURLMOPT_MAX_TOTAL_CONNECTIONS, self.maxConcurrent)
        _ = cpix_curl_multi_setopt_long(raw, CURLMOPT_MAX_HOST_CONNECTIONS, self.maxPerHost)
        _ = cpix_curl_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, self.maxConcurrent * 2)
        let thread = NativeThread.start(name: "pixcrawl-curl") { [self] in
            CurlLoop(engine: self).run()
        }
        inbox.withLock { $0.thread = thread }
    }

    /// Runs one transfer to completion. Throws `CancellationError` when the task is cancelled and
    /// ``FetchError/Code/shutDown`` after ``shutdown()``; every other outcome is in the result.
    func perform(_ spec: TransferSpec) async throws -> TransferResult {
        let id = inbox.withLock { inbox in
            inbox.nextID += 1
            return inbox.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<TransferResult, any Error>) in
                let refusal: (any Error)? = inbox.withLock { inbox in
                    guard inbox.phase == .running else {
                        return FetchError(.shutDown, url: spec.url, reason: "the downloader has been shut down")
                    }
                    if Task.isCancelled { return CancellationError() }
                    inbox.submissions.append(Submission(id: id, spec: spec, continuation: continuation))
                    curl_multi_wakeup(multi.raw)
                    return nil
                }
                if let refusal { continuation.resume(throwing: refusal) }
            }
        } onCancel: {
            let withdrawn: Submission? = inbox.withLock { inbox in
                if let index = inbox.submissions.firstIndex(where: { $0.id == id }) {
                    return inbox.submissions.remove(at: index)
                }
                if inbox.phase != .stopped {
                    inbox.cancellations.append(id)
                    curl_multi_wakeup(multi.raw)
                }
                return nil
            }
            withdrawn?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Stops the thread: transfers in flight fail with ``FetchError/Code/shutDown``. Returns when the
    /// thread has exited. Safe to call more than once.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = inbox.withLock { inbox -> Bool in
                if inbox.phase == .stopped { return true }
                inbox.phase = .stopping
                inbox.stopWaiters.append(continuation)
                curl_multi_wakeup(multi.raw)
                return false
            }
            if done { continuation.resume() }
        }
        joinThread()
    }

    /// Stops the thread and blocks until it has exited; for `deinit`, where awaiting is impossible.
    func shutdownBlocking() {
        inbox.withLock { inbox in
            if inbox.phase == .running {
                inbox.phase = .stopping
                curl_multi_wakeup(multi.raw)
            }
        }
        joinThread()
    }

    private func joinThread() {
        let thread = inbox.withLock { inbox -> NativeThread? in
            defer { inbox.thread = nil }
            return inbox.thread
        }
        guard let thread else { return }
        precondition(!thread.isCurrent, "the libcurl thread cannot join itself")
        thread.join()
    }
}

/// The libcurl thread's own state. Lives on that thread only.
private final class CurlLoop {
    private let engine: CurlEngine
    private var multi: UnsafeMutableRawPointer { engine.multi.raw }
    /// Transfers waiting for a free slot, per origin, in arrival order.
    private var queues: [String: Queue<Transfer>] = [:]
    /// Origins with waiting transfers, in the order they first had to wait (served round-robin).
    private var waitingOrigins: [String] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var activePerOrigin: [String: Int] = [:]

    init(engine: CurlEngine) {
        self.engine = engine
    }

    func run() {
        while true {
            let (submissions, cancellations, phase) = engine.inbox.withLock { inbox in
                defer {
                    inbox.submissions.removeAll()
                    inbox.cancellations.removeAll()
                }
                return (inbox.submissions, inbox.cancellations, inbox.phase)
            }
            for submission in submissions {
                enqueue(Transfer(id: submission.id, spec: submission.spec, continuation: submission.continuation))
            }
            for id in cancellations { cancel(id) }
            if phase != .running { break }
            startWaiting()
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            finishCompleted()
            startWaiting()
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        stop()
    }

    // MARK: Queueing

    private func enqueue(_ transfer: Transfer) {
        let origin = transfer.spec.origin
        if queues[origin] == nil {
            queues[origin] = Queue()
            waitingOrigins.append(origin)
        }
        queues[origin]!.push(transfer)
    }

    /// Starts waiting transfers while the global and per-origin limits allow, one origin at a time.
    private func startWaiting() {
        var progress = true
        while progress && active.count < engine.maxConcurrent && !waitingOrigins.isEmpty {
            progress = false
            var index = 0
            while index < waitingOrigins.count && active.count < engine.maxConcurrent {
                let origin = waitingOrigins[index]
                guard activePerOrigin[origin, default: 0] < engine.maxPerHost, let transfer = queues[origin]?.pop()
                else {
                    index += 1
                    continue
                }
                progress = true
                if queues[origin]!.isEmpty {
                    queues[origin] = nil
                    waitingOrigins.remove(at: index)
                } else {
                    index += 1
                }
                start(transfer)
            }
        }
    }

    private func start(_ transfer: Transfer) {
        if let failure = transfer.prepare() {
            let result = transfer.result(code: CURLE_FAILED_INIT)
            transfer.releaseHandle()
            var failed = result
            failed.errorMessage = failure
            transfer.continuation.resume(returning: failed)
            return
        }
        guard let easy = transfer.easy, curl_multi_add_handle(multi, easy) == CURLM_OK else {
            var failed = transfer.result(code: CURLE_FAILED_INIT)
            failed.errorMessage = "curl_multi_add_handle failed"
            transfer.releaseHandle()
            transfer.continuation.resume(returning: failed)
            return
        }
        active[easy] = transfer
        activePerOrigin[transfer.spec.origin, default: 0] += 1
    }

    // MARK: Completion

    private func finishCompleted() {
        var easy: UnsafeMutableRawPointer?
        var code = CURLE_OK
        while cpix_curl_multi_next_done(multi, &easy, &code) != 0 {
            guard let handle = easy, let transfer = detach(handle) else { continue }
            let result = transfer.result(code: code)
            transfer.releaseHandle()
            transfer.continuation.resume(returning: result)
        }
    }

    /// Removes an active transfer from the multi handle and the bookkeeping.
    private func detach(_ easy: UnsafeMutableRawPointer) -> Transfer? {
        guard let transfer = active.removeValue(forKey: easy) else { return nil }
        _ = curl_multi_remove_handle(multi, easy)
        let origin = transfer.spec.origin
        activePerOrigin[origin, default: 1] -= 1
        if activePerOrigin[origin] == 0 { activePerOrigin[origin] = nil }
        return transfer
    }

    private func cancel(_ id: UInt64) {
        if let (easy, _) = active.first(where: { $0.value.id == id }), let transfer = detach(easy) {
            transfer.releaseHandle()
            transfer.continuation.resume(throwing: CancellationError())
            return
        }
        for origin in waitingOrigins {
            if let transfer = queues[origin]?.remove(where: { $0.id == id }) {
                if queues[origin]!.isEmpty {
                    queues[origin] = nil
                    waitingOrigins.removeAll { $0 == origin }
                }
                transfer.continuation.resume(throwing: CancellationError())
                return
            }
        }
    }

    /// Fails everything still queued or in flight, then frees the multi handle.
    private func stop() {
        var failed: [Transfer] = []
        for (easy, _) in active {
            if let transfer = detach(easy) { failed.append(transfer) }
        }
        for origin in waitingOrigins {
            while let transfer = queues[origin]?.pop() { failed.append(transfer) }
        }
        queues.removeAll()
        waitingOrigins.removeAll()
        let (late, waiters) = engine.inbox.withLock { inbox in
            inbox.phase = .stopped
            defer {
                inbox.submissions.removeAll()
                inbox.stopWaiters.removeAll()
            }
            return (inbox.submissions, inbox.stopWaiters)
        }
        _ = curl_multi_cleanup(multi)
        for transfer in failed {
            transfer.releaseHandle()
            transfer.continuation.resume(
                throwing: FetchError(.shutDown, url: transfer.spec.url, reason: "the downloader was shut down"))
        }
        for submission in late {
            submission.continuation.resume(
                throwing: FetchError(.shutDown, url: submission.spec.url, reason: "the downloader was shut down"))
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A first-in, first-out queue.
struct Queue<Element> {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func push(_ item: Element) {
        items.append(item)
    }

    mutating func pop() -> Element? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    mutating func remove(where matches: (Element) -> Bool) -> Element? {
        guard let index = items[head...].firstIndex(where: matches) else { return nil }
        return items.remove(at: index)
    }
}
