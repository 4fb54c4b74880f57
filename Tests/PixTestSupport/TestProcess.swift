import Foundation
import PixCore

/// Runs the built `pixcrawl` executable (or any program) and captures its output, for end-to-end tests.
public enum TestProcess {
    /// The result of one run.
    public struct Output: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `pixcrawl` binary next to the test bundle (`.build/<config>/pixcrawl`).
    public static var pixcrawlPath: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // Inside the .xctest bundle on some layouts: walk up until the binary is found.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("pixcrawl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("pixcrawl").path
    }

    /// Runs `arguments[0]` with the rest as its arguments in `directory`, adding `environment` to ours.
    /// Output goes through files so a daemon child can never hold a pipe open.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        var argv: [String] = arguments
        if let directory {
            // posix_spawn has no portable chdir action here: run through env -C.
            argv = ["/usr/bin/env", "-C", directory] + argv
        }
        let pid = try spawn(argv, environment: environment, output: outPath, errors: errPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(
            status: exitCode,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// ``run(_:environment:directory:)`` on a thread of its own (``NativeThread/run(name:_:)``): an async test that waits for a
    /// child must not hold a pooled thread meanwhile, since the servers under test need them, and a child that talks
    /// to such a server (curl, a Python loader) would otherwise wait for a thread its own parent is holding.
    public static func runDetached(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) async throws -> Output {
        try await NativeThread.run(name: "test.child") { try run(arguments, environment: environment, directory: directory) }
    }

    /// Starts `argv[0]` (searched in `PATH`) with the rest as its arguments and `environment` added to ours; stdin
    /// is /dev/null, stdout goes to the file `output` and stderr to `errors` (or to `output` when `nil`). Files, not
    /// pipes, so a daemon child can never hold a pipe open.
    /// - Returns: the child's pid, for `waitpid` or `kill`.
    public static func spawn(
        _ argv: [String], environment: [String: String] = [:], output: String, errors: String? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw TestSupportError("cannot start \(argv[0]): errno \(spawned)") }
        return pid
    }

    /// Runs `pixcrawl` with `arguments`.
    public static func pixcrawl(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws -> Output {
        try run([pixcrawlPath] + arguments, environment: environment, directory: directory)
    }
}
