import Foundation

/// A throwaway PostgreSQL for the test process: the server named by `PIXCRAWL_TEST_DATABASE_URL`, or one
/// started here once per process (initdb into a temporary folder, pg_ctl on a free loopback port) and
/// stopped when the process exits. Tests isolate themselves with a schema each.
public enum TestPostgres {
    /// The server's base URL, or the reason no server could be had.
    public static func baseURL() throws -> String {
        try shared.get()
    }

    private static let shared: Result<String, any Error> = Result {
        if let url = ProcessInfo.processInfo.environment["PIXCRAWL_TEST_DATABASE_URL"], !url.isEmpty {
            return url
        }
        return try startServer()
    }

    public static func findBinary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted(by: >) ?? []
        for version in versions {
            let path = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestSupportError("\(name) not found: install postgresql (apt-get install postgresql)")
    }

    /// Runs a command as the `postgres` user when we are root (initdb and postgres refuse root).
    /// Uses posix_spawn + waitpid; output goes to a file, not a pipe, because a daemon started by the
    /// command (pg_ctl start) would inherit a pipe and keep it open forever.
    @discardableResult
    static func run(_ arguments: [String], asPostgres: Bool) throws -> String {
        var argv = arguments
        if asPostgres && getuid() == 0 {
            argv = ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv
        }
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("pixcrawl-cmd-\(UUID().uuidString).log").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw TestSupportError("cannot start \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw TestSupportError("\(arguments.joined(separator: " ")) failed (status \(status)): \(output)")
        }
        return output
    }

    private static func startServer() throws -> String {
        let server = try PostgresServer()
        return server.url
    }

    /// A free TCP port on 127.0.0.1.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A test set-up failure with its reason.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
