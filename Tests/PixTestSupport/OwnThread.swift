import Foundation

/// Runs blocking `body` (a child process to wait for, a socket to read) on a thread of its own and awaits its
/// result. Neither Swift's cooperative pool nor Dispatch's global queues may be used for such waits: both are as
/// wide as the machine has cores (two in CI), and a test that holds their threads while it waits for a server in
/// the same process (or for a child that talks to one) freezes every server and lease of the test process.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
