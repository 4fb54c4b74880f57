import CCurl
import CPixCurl
import Synchronization

/// One libcurl easy handle. Its connection cache keeps connections to the endpoint alive between requests.
// @unchecked Sendable: the pool lends a handle to exactly one thread at a time and never touches it meanwhile.
final class CurlHandle: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer

    init?() {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
    }

    deinit { curl_easy_cleanup(easy) }
}

/// Idle easy handles, reused so requests to the same endpoint share open connections.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlHandle]>([])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Lends a reset handle to `body`, then keeps it for the next request (or frees it when the pool is full).
    func withHandle<Result>(_ body: (CurlHandle) throws -> Result) throws -> Result {
        let pooled = idle.withLock { $0.popLast() }
        let handle: CurlHandle
        if let pooled {
            curl_easy_reset(pooled.easy)  // clears options, keeps live connections and caches
            handle = pooled
        } else {
            guard cpix_curl_global_init_once() == CURLE_OK else {
                throw S3Error(code: .transport, message: "curl_global_init failed")
            }
            guard let fresh = CurlHandle() else { throw S3Error(code: .transport, message: "curl_easy_init failed") }
            handle = fresh
        }
        defer {
            idle.withLock { handles in
                if handles.count < capacity { handles.append(handle) }
            }
        }
        return try body(handle)
    }
}
