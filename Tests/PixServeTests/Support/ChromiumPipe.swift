import Foundation

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands go to the
/// browser's fd 3, answers come from its fd 4, each message a JSON object ended by a NUL byte). No WebSocket and no
/// extra package: the test talks to the real browser the way Puppeteer's pipe transport does.
final class ChromiumPipe: @unchecked Sendable {
    // Unchecked: every use of the file descriptors and the buffer is serialised by `queue`.
    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private var buffer: [UInt8] = []
    private var nextID = 0
    private let queue = DispatchQueue(label: "pixcrawl.test.chromium")
    private let profile: URL
    /// The page's session, once ``openPage()`` attached to it.
    private(set) var session: String?

    /// Starts `executable` headless with a fresh profile directory.
    init(executable: String) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw ClientError(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe",
            "--user-data-dir=\(profile.path)", "about:blank",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }
        let status = posix_spawn(&child, executable, &actions, nil, argv, environment)
        Foundation.close(toBrowser[0])
        Foundation.close(fromBrowser[1])
        guard status == 0 else {
            Foundation.close(toBrowser[1])
            Foundation.close(fromBrowser[0])
            throw ClientError(description: "chromium did not start: \(status)")
        }
        pid = child
        commands = toBrowser[1]
        answers = fromBrowser[0]
    }

    /// Stops the browser and removes its profile.
    func shutdown() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        Foundation.close(commands)
        Foundation.close(answers)
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends one command (to the page's session unless `browser`) and returns its `result`.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], browser: Bool = false) async throws -> [String: Any] {
        let encoded = String(decoding: try JSONSerialization.data(withJSONObject: params), as: UTF8.self)
        let answer: Data = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result { try self.exchange(method, encoded, session: browser ? nil : self.session) })
            }
        }
        return (try JSONSerialization.jsonObject(with: answer)) as? [String: Any] ?? [:]
    }

    /// Opens a page target and attaches to it; later commands go to it.
    func openPage() async throws {
        let target = try await send("Target.createTarget", ["url": "about:blank"], browser: true)
        guard let targetID = target["targetId"] as? String else { throw ClientError(description: "no page target") }
        let attached = try await send("Target.attachToTarget", ["targetId": targetID, "flatten": true], browser: true)
        session = attached["sessionId"] as? String
        try await send("Page.enable")
        try await send("Runtime.enable")
    }

    /// Evaluates `expression` in the page (promises awaited) and returns its value.
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
        let result = try await send(
            "Runtime.evaluate", ["expression": expression, "awaitPromise": true, "returnByValue": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw ClientError(description: "page script failed: \(exception)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression` every 100 ms until it is `true`, for at most `seconds`.
    func waitFor(_ expression: String, seconds: Int = 30) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if (try? await evaluate(expression)) as? Bool == true { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Navigates and waits until the new document has loaded.
    func navigate(_ url: String) async throws {
        try await send("Page.navigate", ["url": url])
        _ = try await waitFor("document.readyState === 'complete' && location.href === \(Self.quote(url))")
    }

    /// A PNG screenshot of the whole page at a viewport `width` pixels wide (phone widths emulate a mobile device).
    func screenshot(width: Int, height: Int, mobile: Bool) async throws -> Data {
        try await send(
            "Emulation.setDeviceMetricsOverride",
            ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile])
        _ = try await evaluate("new Promise(function(r){requestAnimationFrame(function(){requestAnimationFrame(r)})})")
        let shot = try await send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw ClientError(description: "no screenshot data")
        }
        return data
    }

    static func quote(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text])
        return String(decoding: data ?? Data(), as: UTF8.self).dropFirst().dropLast().description
    }

    /// Writes one command and reads messages until its answer; returns the answer's `result` as JSON.
    private func exchange(_ method: String, _ params: String, session: String?) throws -> Data {
        nextID += 1
        let id = nextID
        let target = session.map { ",\"sessionId\":\(Self.quote($0))" } ?? ""
        var bytes = Array("{\"id\":\(id),\"method\":\(Self.quote(method)),\"params\":\(params)\(target)}".utf8)
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ClientError(description: "chromium closed its pipe") }
            written += count
        }
        while true {
            let message = try readMessage()
            guard message["id"] as? Int == id else { continue }  // an event, or another command's answer
            if let error = message["error"] as? [String: Any] {
                throw ClientError(description: "\(method) failed: \(error)")
            }
            return try JSONSerialization.data(withJSONObject: message["result"] as? [String: Any] ?? [:])
        }
    }

    /// The next NUL-terminated message; at most 60 s of silence.
    private func readMessage() throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                return (try JSONSerialization.jsonObject(with: Data(message))) as? [String: Any] ?? [:]
            }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 60_000)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw ClientError(description: "chromium did not answer within 60 s") }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ClientError(description: "chromium closed its pipe") }
            buffer += chunk[..<count]
        }
    }
}
