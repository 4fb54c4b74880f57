import Foundation
import PixStore
import PixTestSupport
import Testing

@Suite("pixcrawl command line")
struct CLITests {
    static func scratchDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func databaseURL(_ backend: Backend, directory: String) throws -> String {
        switch backend {
        case .sqlite:
            return "sqlite:\(directory)/store.sqlite"
        case .postgres:
            let schema = "cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            let base = try TestPostgres.baseURL()
            return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        }
    }

    @Test("--help lists every command")
    func help() throws {
        let output = try TestProcess.pixcrawl(["--help"])
        #expect(output.status == 0)
        for command in [
            "migrate", "project", "crawl", "worker", "status", "validate", "export", "download", "serve", "stats", "gc",
            "migrate-store",
        ] {
            #expect(output.stdout.contains("  \(command) "), "--help lists \(command)")
        }
    }

    @Test("pixcrawl migrate twice: the second run applies nothing", arguments: Backend.allCases)
    func migrateTwice(backend: Backend) throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = [
            "PIXCRAWL_DATABASE_URL": try Self.databaseURL(backend, directory: directory),
            "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path,
        ]
        let first = try TestProcess.pixcrawl(["migrate"], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 001_initial.sql"))
        let second = try TestProcess.pixcrawl(["migrate"], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("nothing to apply"))
        #expect(!second.stdout.contains("applied 0"))
        let status = try TestProcess.pixcrawl(["migrate", "--status"], environment: environment)
        #expect(status.stdout.contains("001_initial.sql  applied"))
        let jobs = try TestProcess.pixcrawl(["status"], environment: environment)
        #expect(jobs.status == 0, "\(jobs.stderr)")
        #expect(jobs.stdout.contains("no jobs yet"))
    }

    @Test("an unreachable server gives one clear line and a non-zero exit, without the password")
    func unreachableServer() throws {
        let port = try TestPostgres.freePort()
        let output = try TestProcess.pixcrawl(
            ["migrate"], environment: ["PIXCRAWL_DATABASE_URL": "postgres://pix:s3cret-pass@127.0.0.1:\(port)/db"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("pixcrawl: error: cannot connect to PostgreSQL"))
        #expect(output.stderr.split(separator: "\n").count == 1)
        #expect(!output.stderr.contains("s3cret-pass"))
    }

    @Test("an unwritable SQLite path gives one clear line and a non-zero exit")
    func unwritableSQLite() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blocker = directory + "/file"
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let output = try TestProcess.pixcrawl(
            ["migrate"], environment: ["PIXCRAWL_DATABASE_URL": "sqlite:\(blocker)/sub/store.sqlite"])
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("pixcrawl: error:"))
        #expect(output.stderr.contains("store.sqlite"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }

    @Test("a malformed store URL and a bad schema name are refused clearly")
    func badConfiguration() throws {
        let scheme = try TestProcess.pixcrawl(["migrate"], environment: ["PIXCRAWL_DATABASE_URL": "mysql://x/y"])
        #expect(scheme.status == 1)
        #expect(scheme.stderr.contains("unsupported store URL scheme"))
        let schema = try TestProcess.pixcrawl(
            ["migrate", "--schema", "bad-name;drop"], environment: ["PIXCRAWL_DATABASE_URL": "postgres://127.0.0.1/x"])
        #expect(schema.status == 1)
        #expect(schema.stderr.contains("schema name"))
    }
}

/// Help texts are paragraphs: the argument parser wraps them to the terminal, so a wide terminal shows each
/// paragraph on one line (a hard line break in the text would split the sentence in the middle).
@Suite("help texts")
struct HelpTextTests {
    @Test(
        "a discussion reads as one paragraph on a wide terminal",
        arguments: [
            (["--help"], "unless PIXCRAWL_DATABASE_URL names a PostgreSQL server"),
            (["help", "crawl"], "runs --workers workers in this process against the store until the job is finished."),
            (["help", "worker"], "downloads and validates their candidates"),
            (["help", "gc"], "marks those exports expired (an archive with a live link is never deleted)"),
            (["help", "serve"], "`pixcrawl user create --email E`. SIGTERM"),
            (["help", "validate"], "marks each image valid or invalid"),
            (["help", "fsck"], "and reports: orphans"),
        ])
    func paragraph(arguments: [String], sentence: String) throws {
        let output = try TestProcess.pixcrawl(arguments, environment: ["COLUMNS": "400"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains(sentence), "\(output.stdout)")
    }
}
