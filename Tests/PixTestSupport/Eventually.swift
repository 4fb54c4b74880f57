/// Waits until `condition` holds, polling every 20 ms, failing after `timeout`.
/// - Throws: ``TestSupportError`` naming `what` when `timeout` passes first; what `condition` throws.
public func eventually(
    _ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestSupportError("timed out waiting for: \(what)")
}
