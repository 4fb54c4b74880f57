import Foundation
import Hummingbird
import Logging
import NIOCore
import PixCore
import PixServe
import PixStore
import PixTestSupport
import ServiceLifecycle
import Testing

@Suite("Dashboard")
struct DashboardTests {
    @Test("sign-in sets an HttpOnly SameSite=Strict cookie; the page shows jobs, rejects and exports without JS")
    func serverRendered() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let signIn = try await server.client.get("/")
            #expect(signIn.status == 200)
            #expect(signIn.text.contains("action=\"/login\""))

            let wrong = try await server.client.request(
                "POST", "/login", body: Array("token=pxc_wrong".utf8),
                headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(wrong.status == 401)
            #expect(wrong.cookies.isEmpty)
            #expect(wrong.text.contains("signin-error"))

            let login = try await server.client.request(
                "POST", "/login", body: Array("token=\(alice.token)".utf8),
                headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(login.status == 303)
            #expect(login.headers["location"] == "/")
            let cookie = try #require(login.cookies.first)
            #expect(cookie.hasPrefix("\(Authenticator.cookieName)=\(alice.token)"))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            let session = ["Cookie": "\(Authenticator.cookieName)=\(alice.token)"]

            let projectID = try await server.createProject(as: alice, name: "Owls <&>")
            let jobID = try await server.submitJob(as: alice, projectID: projectID, maxImages: 10)
            try await server.insertImages(jobID: jobID, count: 3)
            try await server.store.recordErrors([NewErrorLog(jobID: jobID, category: .decode, message: "bad")])
            let export = try await server.client.request(
                "POST", "/dashboard/jobs/\(jobID)/exports", body: Array("format=zip".utf8),
                headers: session.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 })
            #expect(export.status == 303)
            let exportID = try #require(try await server.store.exports(crawlJobID: jobID).first?.id)
            let archive = try await server.runExport(exportID)

            let page = try await server.client.get("/", headers: session)
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            let html = page.text
            #expect(html.contains("Owls &lt;&amp;&gt;"), "names are escaped")
            #expect(html.contains("id=\"job-\(jobID)\""))
            #expect(html.contains("<span data-field=\"progress\">30%</span>"))
            #expect(html.contains("4 total · 4 pending"), "10 images × 1.5 over 2 keywords in chunks of 5")
            #expect(html.contains("DECODE 1"))
            #expect(html.contains("id=\"export-\(exportID)\">zip · completed · 100%"))
            #expect(html.contains("newest link expires"))
            #expect(html.contains("action=\"/dashboard/exports/\(exportID)/link\""))
            let download = try await server.client.request("POST", "/dashboard/exports/\(exportID)/link", headers: session)
            #expect(download.status == 303)
            let location = try #require(download.headers["location"])
            #expect(location.hasPrefix("/downloads/pxd_"))
            #expect(try await server.client.get(location).body == archive)
            #expect(html.contains("http-equiv=\"refresh\""), "pages refresh without JavaScript")
            #expect(!html.contains("id=\"workers\""), "workers are for admins")

            let logout = try await server.client.request("POST", "/logout", headers: session)
            #expect(logout.status == 303)
            #expect(logout.cookies.first?.contains("Max-Age=0") == true)
        }
    }

    @Test("headless Chromium: sign in, see the job's progress, watch it change live, take a screenshot")
    func chromium() async throws {
        guard let chromium = Self.findChromium() else {
            Issue.record("chromium is not installed: `apt-get install -y chromium` (CI installs it in .ci/run)")
            return
        }
        let output = try Self.outputDirectory()
        let recorder = RequestLogRecorder()
        try await TestServer.with(.sqlite, logHandler: recorder) { server in
            let alice = try await server.makeUser("alice", role: .admin)
            let projectID = try await server.createProject(as: alice, name: "Foxes")
            let jobID = try await server.submitJob(as: alice, projectID: projectID, maxImages: 20)
            try await server.store.registerWorker(id: "worker-1", hostname: "crawler-a", pid: 4242, version: "test")

            // The browser signs in through a page on another loopback port (same site, so the Strict cookie
            // set by /login is sent on the redirect to /).
            let signIn = """
                <!DOCTYPE html><html><body><form id="f" method="post" action="http://127.0.0.1:\(server.port)/login">
                <input type="hidden" name="token" value="\(alice.token)"></form>
                <script>document.getElementById('f').submit()</script></body></html>
                """
            try await Self.withPage(signIn) { helperPort in
                let screenshot = output.appendingPathComponent("dashboard-\(UUID().uuidString.prefix(8)).png")
                let dom = output.appendingPathComponent("dashboard-\(UUID().uuidString.prefix(8)).html")
                let browser = try Self.launch(
                    chromium,
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                        "--window-size=1200,900", "--virtual-time-budget=3600000", "--screenshot=\(screenshot.path)",
                        "--dump-dom", "http://127.0.0.1:\(helperPort)/",
                    ], stdout: dom)
                defer { if browser.isRunning { browser.terminate() } }

                // Wait for the page to poll the job at least once, then let the crawl move on and finish it.
                let polled = try await Self.waitUntil(seconds: 60, while: { browser.isRunning }) {
                    recorder.count("GET /v1/jobs/{id}") > 0
                }
                try #require(polled, "the dashboard never polled the job (chromium exited: \(!browser.isRunning))")
                try await server.insertImages(jobID: jobID, count: 6)
                _ = try await server.store.cancelJob(id: jobID)
                let exited = try await Self.waitUntil(seconds: 120, while: { true }) { !browser.isRunning }
                try #require(exited, "chromium did not finish within 120 s")

                let html = try String(contentsOf: dom, encoding: .utf8)
                let final = try #require(try await server.store.job(id: jobID))
                #expect(final.progress == 30)
                #expect(html.contains("data-progress-history=\"0,30\""), "progress appeared at 0% and changed to 30% live")
                #expect(html.contains("<span data-field=\"progress\">30%</span>"))
                #expect(html.contains("data-field=\"status\">cancelled<"))
                #expect(html.contains("0 pending · 0 active · 0 completed · 0 failed · 6 cancelled"))
                #expect(html.contains("crawler-a"), "admins see the workers")
                let png = try Data(contentsOf: screenshot)
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG screenshot at \(screenshot.path)")
                print("dashboard screenshot: \(screenshot.path)")
            }
        }
    }

    /// Where screenshots go: `$PIXCRAWL_TEST_OUTPUT_DIR`, else a folder in the temporary directory.
    static func outputDirectory() throws -> URL {
        let output = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["PIXCRAWL_TEST_OUTPUT_DIR"]
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-test-output").path)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        return output
    }

    static func findChromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    static func launch(_ executable: String, _ arguments: [String], stdout: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls `condition` every 50 ms while `alive` holds, for at most `seconds`; the loop is bounded.
    static func waitUntil(seconds: Int, while alive: () -> Bool, _ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 20) {
            if condition() { return true }
            if !alive() { return condition() }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Serves `html` at `/` on a free loopback port while `body` runs.
    static func withPage(_ html: String, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "pixcrawl.test.page")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
