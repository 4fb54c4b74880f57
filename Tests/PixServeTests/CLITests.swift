import Foundation
import PixCore
import PixS3
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("pixcrawl user, token and serve")
struct CLITests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixserve-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("user create prints a token once; only its hash is stored; token create, list and revoke")
    func usersAndTokens() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("store.sqlite").path
        let environment = [
            "PIXCRAWL_DATABASE_URL": database, "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path,
        ]
        #expect(try await Self.pixcrawl(["migrate"], environment: environment).status == 0)

        let created = try await Self.pixcrawl(
            ["user", "create", "--email", "Ada@Example.com", "--role", "admin"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(APITokenGenerator.isWellFormed(token), "stdout is exactly the token: \(created.stdout)")
        #expect(created.stderr.contains("shown once"))

        let duplicate = try await Self.pixcrawl(["user", "create", "--email", "ada@example.com"], environment: environment)
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.split(separator: "\n").count == 1, "one line: \(duplicate.stderr)")

        let second = try await Self.pixcrawl(
            ["token", "create", "--email", "ada@example.com", "--name", "ci"], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let secondToken = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(APITokenGenerator.isWellFormed(secondToken))
        #expect(secondToken != token)

        let list = try await Self.pixcrawl(["token", "list", "--email", "ada@example.com"], environment: environment)
        #expect(list.status == 0)
        #expect(list.stdout.contains(String(token.prefix(12))))
        #expect(!list.stdout.contains(token) && !list.stdout.contains(secondToken), "secrets never listed")

        let store = try await SQLCrawlStore.open(.sqlite(path: database))
        defer { store.close() }
        let profile = try #require(try await store.profile(email: "ada@example.com"))
        #expect(profile.role == .admin)
        #expect(try await store.authenticate(tokenHash: APITokenGenerator.hash(token))?.0.id == profile.id)
        let tokens = try await store.listAPITokens(profileID: profile.id)
        let ciToken = try #require(tokens.first { $0.name == "ci" })

        let revoke = try await Self.pixcrawl(
            ["token", "revoke", "--email", "ada@example.com", "\(ciToken.id)"], environment: environment)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(try await store.authenticate(tokenHash: APITokenGenerator.hash(secondToken)) == nil)
        let again = try await Self.pixcrawl(
            ["token", "revoke", "--email", "ada@example.com", "\(ciToken.id)"], environment: environment)
        #expect(again.status != 0)
        let activity = try await store.activity(userID: profile.id, limit: 10).map(\.action)
        #expect(activity.filter { $0 == "token.created" }.count == 2)
        #expect(activity.contains("token.revoked"))

        // The secrets appear nowhere in the store's files; their hashes do.
        var bytes = Data()
        for suffix in ["", "-wal"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: database + suffix))) ?? Data()
        }
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        #expect(bytes.range(of: Data(secondToken.utf8)) == nil)
        #expect(bytes.range(of: Data(APITokenGenerator.hash(token).utf8)) != nil)
    }

    /// Runs `pixcrawl` to its end on a thread of its own, so a long command never holds a pooled thread.
    static func pixcrawl(_ arguments: [String], environment: [String: String]) async throws -> TestProcess.Output {
        try await NativeThread.run(name: "test.cli") { try TestProcess.pixcrawl(arguments, environment: environment) }
    }

    /// Starts `pixcrawl serve` on a free loopback port with `arguments` added, its output going to `log`.
    static func startServe(_ arguments: [String], environment: [String: String], log: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestProcess.pixcrawlPath)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The first match of `pattern` in `log`, polled every 50 ms for up to 30 s while `process` runs.
    static func waitForLog(_ log: URL, _ pattern: String, while process: Process) async throws -> String? {
        for _ in 0..<600 where process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: pattern, options: .regularExpression) { return String(text[range]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("pixcrawl serve answers on loopback and stops gracefully on SIGTERM")
    func serveAndStop() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("store.sqlite").path
        let environment = [
            "PIXCRAWL_DATABASE_URL": database, "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path,
        ]
        #expect(try await Self.pixcrawl(["migrate"], environment: environment).status == 0)
        let token = try await Self.pixcrawl(["user", "create", "--email", "op@example.com"], environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let log = directory.appendingPathComponent("serve.log")
        let process = try Self.startServe(
            ["--log-level", "info", "--storage-dir", directory.appendingPathComponent("storage").path],
            environment: environment, log: log)
        defer { if process.isRunning { process.terminate() } }
        let address = try await Self.waitForLog(log, #"pixcrawl\.address=http://127\.0\.0\.1:(\d+)"#, while: process)
        let port = address.flatMap { Int($0.split(separator: ":").last ?? "") }
        let bound = try #require(
            port, "serve did not report its address: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let client = HTTPTestClient(port: bound)
        #expect(try await client.get("/healthz").status == 200)
        #expect(try await client.get("/readyz").status == 200)
        let me = try await client.get("/v1/me", token: token)
        #expect(me.status == 200)
        #expect(me.json["email"] as? String == "op@example.com")

        process.terminate()  // SIGTERM
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "serve exits after SIGTERM")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "graceful exit, status 0")
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("http.route=/v1/me"), "structured request log lines")
        #expect(!text.contains(token), "tokens never reach the log")
    }

    @Test("crawl --resize: refused as export refuses it; a resized crawl survives fsck and gc, and exports its copies")
    func crawlTimeResize() async throws {
        let directory = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = [
            "PIXCRAWL_DATABASE_URL": directory.appendingPathComponent("store.sqlite").path,
            "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path,
            "PIXCRAWL_STORAGE_URL": directory.appendingPathComponent("storage").path,
        ]
        let crawl = ["crawl", "arctic hare", "--max-images", "4", "--source", "demo"]
        let resize = ["--resize", "48", "--resize-mode", "center_crop", "--encode", "jpeg", "--quality", "90"]
        for (bad, message) in [
            (["--resize", "0"], "--resize must be from 1 to 16384 pixels, got 0"),
            (["--resize", "64", "--quality", "101"], "--quality must be from 1 to 100, got 101"),
        ] {
            let refused = try await CLITests.pixcrawl(crawl + bad, environment: environment)
            let exported = try await CLITests.pixcrawl(["export", "1", "--format", "zip"] + bad, environment: environment)
            #expect(refused.status == 1 && refused.stderr.contains(message), "\(refused.stderr)")
            #expect(exported.status == refused.status && exported.stderr.contains(message), "\(exported.stderr)")
        }
        let badMode = try await CLITests.pixcrawl(
            crawl + ["--resize", "64", "--resize-mode", "stretch"], environment: environment)
        let badExportMode = try await CLITests.pixcrawl(
            ["export", "1", "--format", "zip", "--resize", "64", "--resize-mode", "stretch"], environment: environment)
        #expect(badMode.status != 0 && badMode.status == badExportMode.status, "\(badMode.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("storage/images").path))

        let crawled = try await CLITests.pixcrawl(crawl + resize, environment: environment)
        try #require(crawled.status == 0, "\(crawled.stderr)")
        let status = try await CLITests.pixcrawl(["status", "1"], environment: environment)
        #expect(status.stdout.contains("resized as crawled: " + resize.joined(separator: " ")), "\(status.stdout)")
        // Every accepted image has two referenced files, its original and its derivative; the orphans are only the
        // pairs of candidates stored but not recorded (past the target).
        let fsck = try await CLITests.pixcrawl(["fsck", "--repair", "--json"], environment: environment)
        #expect(fsck.status == 0, "\(fsck.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(fsck.stdout.utf8)) as? [String: Any])
        let (files, rows) = (report["files_scanned"] as? Int ?? 0, report["rows_scanned"] as? Int ?? 0)
        #expect(rows == 4 && report["orphans"] as? Int == files - 2 * rows, "\(fsck.stdout)")
        #expect(try await CLITests.pixcrawl(["gc"], environment: environment).status == 0)
        let export = try await CLITests.pixcrawl(["export", "1", "--format", "zip"] + resize, environment: environment)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("completed: 4 images") && !export.stdout.contains("left out"), "\(export.stdout)")
    }
}

@Suite("pixcrawl serve: the local profile signs in")
struct LocalSignInTests {
    @Test("serve prints a one-time sign-in link for the local profile, whose CLI crawl the dashboard then shows")
    func localSignIn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixserve-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = directory.appendingPathComponent("storage").path
        let environment = [
            "PIXCRAWL_DATABASE_URL": directory.appendingPathComponent("store.sqlite").path,
            "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path, "PIXCRAWL_STORAGE_URL": storage,
        ]
        // A whole crawl: waited for off the cooperative pool, which the other suites' servers share.
        let crawl = try await CLITests.pixcrawl(
            ["crawl", "arctic hare", "--max-images", "4", "--source", "demo"], environment: environment)
        try #require(crawl.status == 0, "\(crawl.stderr)")

        let log = directory.appendingPathComponent("serve.log")
        let process = try CLITests.startServe(["--storage-dir", storage], environment: environment, log: log)
        defer { if process.isRunning { process.terminate() } }
        let printed = try await CLITests.waitForLog(log, #"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+"#, while: process)
        let link = try #require(
            printed.flatMap(URL.init(string:)), "no sign-in link: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let (port, path) = (link.port ?? 0, link.path)
        let client = HTTPTestClient(port: port)
        let signIn = try await client.get(path)
        #expect(signIn.status == 303)
        let cookie = try #require(signIn.cookies.first?.split(separator: ";").first.map(String.init))
        let page = try await client.get("/", headers: ["Cookie": cookie])
        #expect(page.text.contains("local@localhost"))
        #expect(page.text.contains("arctic hare"), "the CLI crawl is on the dashboard")
        let again = try await client.get(path)
        #expect(again.status == 401, "the link works once")
        #expect(again.cookies.isEmpty)
        process.terminate()
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    }

    @Test("on object storage, a thumbnail is kept in the bucket next to images/")
    func thumbnailInBucket() async throws {
        let s3 = try TestS3.server()
        let credentials = ["AWS_ACCESS_KEY_ID": s3.accessKey, "AWS_SECRET_ACCESS_KEY": s3.secretKey]
        let storage = "s3://\(TestS3.bucketName("thumbs"))/p?endpoint=\(s3.endpoint)&region=\(s3.region)"
        let location = try S3Location.parse(storage, environment: credentials)
        let bucket = S3Client(location: location, credentials: try S3Credentials.fromEnvironment(credentials))
        _ = try bucket.createBucket()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixserve-s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = credentials.merging([
            "PIXCRAWL_DATABASE_URL": directory.appendingPathComponent("store.sqlite").path,
            "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path, "PIXCRAWL_STORAGE_URL": storage,
        ]) { $1 }
        let crawl = try await CLITests.pixcrawl(
            ["crawl", "snow owl", "--max-images", "3", "--source", "demo"], environment: environment)
        try #require(crawl.status == 0, "\(crawl.stderr)")

        let log = directory.appendingPathComponent("serve.log")
        let process = try CLITests.startServe(["--storage-dir", storage], environment: environment, log: log)
        defer { if process.isRunning { process.terminate() } }
        let printed = try await CLITests.waitForLog(log, #"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+"#, while: process)
        let link = try #require(printed.flatMap(URL.init(string:)))
        let client = HTTPTestClient(port: link.port ?? 0)
        let signIn = try await client.get(link.path)
        let cookie = try #require(signIn.cookies.first?.split(separator: ";").first.map(String.init))
        let image = try await client.get("/v1/images/1", headers: ["Cookie": cookie])
        let sha256 = try #require(image.json["sha256"] as? String)
        let key = location.key(for: "thumbnails/\(sha256.prefix(2))/\(sha256)-256.jpg")
        #expect(try bucket.headObject(key: key) == nil)
        let thumbnail = try await client.get("/v1/images/1/thumbnail", headers: ["Cookie": cookie])
        #expect(thumbnail.status == 200)
        #expect(TestServer.decodedJPEGSize(thumbnail.body) != nil)
        #expect(try bucket.headObject(key: key) != nil, "cached in the bucket")
        process.terminate()
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    }
}
