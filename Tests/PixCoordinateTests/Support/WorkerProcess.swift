import Foundation
import PixStore
import PixTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A `pixcrawl worker` process spawned by a test, its output captured in a file.
final class WorkerProcess {
    let pid: pid_t
    let outputPath: String
    private(set) var exitStatus: Int32?

    /// The repository's root (for the built binary and the migrations).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `pixcrawl` binary built next to the tests.
    static func binary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "pixcrawl"),
            repositoryRoot.appendingPathComponent(".build/debug/pixcrawl"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestSupportError("the pixcrawl binary is not built: run `swift build --product pixcrawl` first")
        }
        return found.path
    }

    /// Arguments that point a command at a test store.
    static func storeArguments(_ location: DatabaseLocation) -> [String] {
        let migrations = ["--migrations-dir", repositoryRoot.appendingPathComponent("migrations").path]
        switch location {
        case .sqlite(let path): return ["--database-url", "sqlite:\(path)"] + migrations
        case .postgres(let conninfo, let schema): return ["--database-url", conninfo, "--schema", schema] + migrations
        }
    }

    /// Starts `pixcrawl ARGUMENTS…` with stdout and stderr in one file.
    /// - Parameters:
    ///   - arguments: The command line after `pixcrawl`.
    ///   - environment: Variables set (or replaced) for this process only.
    ///   - directory: The working directory, when not the test's.
    init(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        var binary = [try Self.binary()]
        // posix_spawn has no portable chdir action: start through env -C.
        if let directory { binary = ["/usr/bin/env", "-C", directory] + binary }
        outputPath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("pixcrawl-worker-\(UUID().uuidString.prefix(8)).log").path
        // Worker processes read URL lists in pages of 10 (set below) so a 30-position chunk commits checkpoints
        // the kill and shutdown tests can wait for.
        self.pid = try TestProcess.spawn(
            binary + arguments, environment: ["PIXCRAWL_URLS_PAGE_SIZE": "10"].merging(environment) { $1 },
            output: outputPath)
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(outputPath)
    }

    /// True once the process has ended (reaps it without waiting).
    var hasExited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return true
    }

    /// Sends a signal.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to end; returns its exit code (128 + signal when killed).
    @discardableResult
    func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        throw TestSupportError("pixcrawl worker did not exit within \(timeout); output:\n\(output)")
    }

    /// Everything the process printed so far.
    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// The chunk ids of its "claimed chunk" log lines.
    var claimedChunks: [Int64] {
        output.split(separator: "\n").filter { $0.contains("claimed chunk") }.compactMap { line in
            guard let range = line.range(of: "pixcrawl.chunk=") else { return nil }
            return Int64(line[range.upperBound...].prefix { $0.isNumber })
        }
    }
}
