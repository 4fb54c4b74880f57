import Foundation
import PixTestSupport
import Testing

/// `scripts/install-packages`, the README's first command, run against stand-ins for `dpkg-query`, `apt-get`, `id`
/// and `sudo` on a PATH that holds nothing else, so the test sees exactly which commands it runs and as whom.
@Suite("scripts/install-packages")
struct InstallPackagesTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/install-packages").path

    /// A directory to put on PATH: `grep` and `env` from the system, `dpkg-query` that knows no package, `apt-get`
    /// and (optionally) `sudo` that append their command line to `calls`, and `id -u` answering `uid`.
    struct FakeSystem {
        let directory: String
        var calls: String { directory + "/calls" }

        init(uid: Int, sudo: Bool) throws {
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-setup-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for tool in ["grep", "env"] {
                let real = ["/usr/bin/\(tool)", "/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) }
                try FileManager.default.createSymbolicLink(atPath: "\(directory)/\(tool)", withDestinationPath: real ?? tool)
            }
            var tools = [
                "dpkg-query": "exit 1",
                "apt-get": "echo \"apt-get $*\" >> '\(calls)'",
                "id": "echo \(uid)",
            ]
            if sudo { tools["sudo"] = "echo sudo >> '\(calls)'; exec \"$@\"" }
            for (name, body) in tools {
                try Self.writeExecutable("#!/bin/sh\n\(body)\n", to: "\(directory)/\(name)")
            }
        }

        /// Writes a script through a close-on-exec descriptor. A descriptor without it is inherited by every child
        /// another test spawns meanwhile and stays open in it: executing the script then fails with ETXTBSY ("text
        /// file busy", exit 126), as the stand-in `sudo` running `apt-get` once did while other suites ran.
        static func writeExecutable(_ text: String, to path: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
            guard descriptor >= 0 else { throw TestSupportError("cannot create \(path): errno \(errno)") }
            defer { close(descriptor) }
            let bytes = Array(text.utf8)
            guard write(descriptor, bytes, bytes.count) == bytes.count else {
                throw TestSupportError("cannot write \(path): errno \(errno)")
            }
        }

        func run() throws -> TestProcess.Output {
            try TestProcess.run(["/bin/sh", InstallPackagesTests.script], environment: ["PATH": directory])
        }

        func recordedCalls() -> [String] {
            ((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("as root on a machine without sudo, apt-get runs directly")
    func rootWithoutSudo() throws {
        let system = try FakeSystem(uid: 0, sudo: false)
        defer { system.remove() }
        let output = try system.run()
        #expect(output.status == 0, "\(output.stderr)")
        let calls = system.recordedCalls()
        #expect(calls.first == "apt-get update -qq")
        #expect(calls.count == 2)
        #expect(calls.last?.hasPrefix("apt-get install -y -qq --no-install-recommends") == true)
        #expect(calls.last?.contains("libcurl4-openssl-dev") == true)
    }

    @Test("as a user with sudo, apt-get runs through sudo")
    func userWithSudo() throws {
        let system = try FakeSystem(uid: 1000, sudo: true)
        defer { system.remove() }
        let output = try system.run()
        #expect(output.status == 0, "\(output.stderr)")
        #expect(system.recordedCalls() == ["sudo", "apt-get update -qq", "sudo", system.recordedCalls().last ?? ""])
        #expect(system.recordedCalls().last?.contains("libjpeg62-turbo-dev") == true)
    }

    @Test("as a user without sudo, it says what to run and exits 1")
    func userWithoutSudo() throws {
        let system = try FakeSystem(uid: 1000, sudo: false)
        defer { system.remove() }
        let output = try system.run()
        #expect(output.status == 1)
        #expect(output.stderr.contains("apt-get install -y pkg-config"))
        #expect(system.recordedCalls().isEmpty)
    }
}
