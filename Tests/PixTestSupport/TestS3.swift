import Foundation
import Synchronization

/// An S3-compatible server for the test process: the one named by `PIXCRAWL_TEST_S3_ENDPOINT`, or a
/// `moto_server` started here once per process on a free loopback port and stopped when the process exits.
/// Tests isolate themselves with a bucket each (``bucketName(_:)``).
///
/// moto comes from PyPI, installed into the package's `.build-tools/moto` virtual environment:
///
/// ```
/// python3 -m venv .build-tools/moto && .build-tools/moto/bin/pip install 'moto[server]'
/// ```
///
/// `PIXCRAWL_TEST_MOTO` names another `moto_server` binary. With `PIXCRAWL_TEST_S3_ENDPOINT`, the credentials
/// come from `PIXCRAWL_TEST_S3_ACCESS_KEY` / `PIXCRAWL_TEST_S3_SECRET_KEY` (default `testing`) and the region
/// from `PIXCRAWL_TEST_S3_REGION` (default `us-east-1`).
public enum TestS3 {
    /// A running server and credentials it accepts.
    public struct Server: Sendable {
        /// `http://127.0.0.1:PORT`.
        public let endpoint: String
        /// The port the server listens on.
        public let port: Int
        public let region: String
        public let accessKey: String
        public let secretKey: String
        /// True for the moto_server started here (which also serves `<bucket>.localhost` virtual-host requests);
        /// false for a server named by `PIXCRAWL_TEST_S3_ENDPOINT`.
        public let isLocalMoto: Bool
    }

    /// The shared server, or the reason none could be had (with how to install moto).
    public static func server() throws -> Server {
        try shared.get()
    }

    private static let shared: Result<Server, any Error> = Result {
        let environment = ProcessInfo.processInfo.environment
        let region = environment["PIXCRAWL_TEST_S3_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        if let endpoint = environment["PIXCRAWL_TEST_S3_ENDPOINT"], !endpoint.isEmpty {
            let port = URL(string: endpoint)?.port ?? 80
            return Server(
                endpoint: endpoint, port: port, region: region,
                accessKey: environment["PIXCRAWL_TEST_S3_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? "testing",
                secretKey: environment["PIXCRAWL_TEST_S3_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? "testing",
                isLocalMoto: false)
        }
        let port = try startMoto()
        // moto accepts any well-formed SigV4 request unless told to check signatures.
        return Server(
            endpoint: "http://127.0.0.1:\(port)", port: port, region: region, accessKey: "AKIAPIXCRAWLTEST",
            secretKey: "pixcrawl-test-secret", isLocalMoto: true)
    }

    /// A bucket name no other test uses: `pix-<label>-<random>`, valid under S3's naming rules.
    public static func bucketName(_ label: String = "test") -> String {
        let cleaned = label.lowercased().unicodeScalars.map { scalar -> String in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) ? String(scalar) : "-"
        }.joined()
        let random = String(UInt64.random(in: .min ... .max), radix: 36)
        return "pix-\(cleaned.prefix(30))-\(random)"
    }

    /// How to get moto, for failure messages.
    public static let installHint =
        "install moto: python3 -m venv .build-tools/moto && .build-tools/moto/bin/pip install 'moto[server]' "
        + "(run in the package root; or set PIXCRAWL_TEST_MOTO to a moto_server binary, or PIXCRAWL_TEST_S3_ENDPOINT "
        + "to a running S3-compatible server)"

    /// The `moto_server` binary: `PIXCRAWL_TEST_MOTO`, else `<package root>/.build-tools/moto/bin/moto_server`.
    public static func motoBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["PIXCRAWL_TEST_MOTO"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestSupportError("PIXCRAWL_TEST_MOTO=\(path) is not an executable file; \(installHint)")
            }
            return path
        }
        // This file is Tests/PixTestSupport/TestS3.swift; the package root is three levels up.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var candidates = [root.appendingPathComponent(".build-tools/moto/bin/moto_server").path]
        candidates.append(FileManager.default.currentDirectoryPath + "/.build-tools/moto/bin/moto_server")
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSupportError("moto_server not found at \(candidates[0]): \(installHint)")
    }

    /// Starts a `moto_server` on a free 127.0.0.1 port, with `environment` added to ours (for example
    /// `INITIAL_NO_AUTH_ACTION_COUNT`), waits until it accepts connections and stops it when the process exits.
    /// - Returns: the port.
    public static func startMoto(environment: [String: String] = [:]) throws -> Int {
        // A free port can be taken by another process between our probe and moto's bind: try a few.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try startMoto(port: try TestPostgres.freePort(), environment: environment)
            } catch let error as TestSupportError where error.description.contains("Address already in use") && attempt < 5 {
                continue
            }
        }
    }

    private static func startMoto(port: Int, environment: [String: String]) throws -> Int {
        let binary = try motoBinary()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-moto-\(getpid())-\(port).log")
            .path
        let pid: pid_t
        do {
            pid = try TestProcess.spawn(
                [binary, "-H", "127.0.0.1", "-p", String(port)], environment: environment, output: log)
        } catch {
            throw TestSupportError("\(error); \(installHint)")
        }
        let first = children.withLock { pids in
            pids.append(pid)
            return pids.count == 1
        }
        if first {
            atexit {
                let pids = TestS3.children.withLock { pids in
                    defer { pids.removeAll() }
                    return pids
                }
                // moto waits for open keep-alive connections (ours, still pooled) before it exits on SIGTERM:
                // give it a moment, then SIGKILL (it keeps everything in memory, nothing to clean up).
                for pid in pids { kill(pid, SIGTERM) }
                for pid in pids {
                    var status: Int32 = 0
                    var waited = 0
                    while waitpid(pid, &status, WNOHANG) == 0 && waited < 20 {
                        usleep(50_000)
                        waited += 1
                    }
                    if waited == 20 {
                        kill(pid, SIGKILL)
                        _ = waitpid(pid, &status, 0)
                    }
                }
            }
        }

        // Wait until it accepts connections (python takes a few seconds to import moto).
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                children.withLock { $0.removeAll { $0 == pid } }
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw TestSupportError("moto_server exited (status \(status)) before it listened: \(output.suffix(2000))")
            }
            // Listening, and still our moto (not another process that took the port).
            if canConnect(port: port) && waitpid(pid, &status, WNOHANG) == 0 { return port }
            usleep(100_000)
        }
        throw TestSupportError("moto_server did not listen on 127.0.0.1:\(port) within 90 s (log: \(log))")
    }

    private static let children = Mutex<[pid_t]>([])

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
