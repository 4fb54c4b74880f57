import Foundation
import PixCoordinate
import PixCore
import PixDemo
import PixServe
import PixSources
import PixStore
import PixTestSupport
import Testing

/// The whole dashboard in a real browser: headless Chromium over the DevTools pipe drives the server on loopback
/// while in-process workers crawl the demo source.
@Suite("Dashboard in Chromium")
struct DashboardBrowserTests {
    @Test("sign in, start a demo crawl with the form, watch it reach 100 %, see thumbnails and rejects, export, download")
    func runDataset() async throws {
        guard let executable = DashboardTests.findChromium() else {
            Issue.record("chromium is not installed: `apt-get install -y chromium` (CI installs it in .ci/run)")
            return
        }
        let output = try DashboardTests.outputDirectory()
        let demo = DemoSource(maxDepth: 200, pageSize: 10, logger: CrawlFlowTests.logger)
        defer { demo.shutdown() }
        try await TestServer.with(.sqlite, planner: JobPlanner(sources: CrawlFlowTests.resolver(demo))) {
            server in
            let alice = try await server.makeUser("alice")
            let browser = try ChromiumPipe(executable: executable)
            defer { browser.shutdown() }
            try await browser.openPage()
            let base = "http://127.0.0.1:\(server.port)"

            // Sign in with the token on the sign-in page.
            try await browser.navigate(base + "/")
            try await browser.evaluate(
                "document.getElementById('token').value=\(ChromiumPipe.quote(alice.token));"
                    + "document.querySelector('form[action=\"/login\"]').submit();true")
            try #require(try await browser.waitFor("!!document.querySelector('.job-form') && document.readyState==='complete'"))

            // Start a crawl through the dashboard's own form.
            try await browser.evaluate(
                """
                var f=document.querySelector('.job-form');
                f.project.value='new';f.project_name.value='Foxes';f.keywords.value='red fox\\narctic fox';
                f.querySelectorAll('input[name=sources]').forEach(function(c){c.checked=c.value==='demo';});
                f.max_images.value='24';f.requestSubmit();true
                """)
            try #require(
                try await browser.waitFor("/^\\/jobs\\/\\d+$/.test(location.pathname) && document.readyState==='complete'"))
            let path = try #require(try await browser.evaluate("location.pathname") as? String)
            let jobID = try #require(Int64(path.dropFirst("/jobs/".count)))
            #expect(try await server.store.job(id: jobID)?.keywords == ["red fox", "arctic fox"])

            // Workers crawl it; the open page follows the progress live until 100 %.
            let runtime = try CrawlFlowTests.runtime(for: server, demo: demo)
            let workers = (0..<2).map { index in
                runtime.makeWorker(
                    WorkerConfiguration(
                        id: "browser-\(index)", lease: .seconds(10), pollInterval: .milliseconds(50),
                        shutdownTimeout: .seconds(5), jobID: jobID, exitWhenJobFinished: true))
            }
            do {
                try await CrawlFlowTests.run(workers, timeout: .seconds(60))
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
            #expect(
                try await browser.waitFor("document.querySelector('[data-field=progress]').textContent==='100%'"),
                "the page showed 100 % without a reload")
            #expect(
                try await browser.evaluate("document.getElementById('chart').querySelectorAll('polyline').length") as? Int ?? 0
                    >= 1)

            // The grid: at least 12 thumbnails the browser decoded, and the same files decode here.
            try await browser.navigate(base + path)
            // Thumbnails load lazily, as a person scrolls: bring the grid into view first.
            try await browser.evaluate("document.querySelector('.gallery').scrollIntoView();true")
            #expect(
                try await browser.waitFor(
                    "Array.from(document.querySelectorAll('.gallery img')).filter(function(i){return i.complete&&i.naturalWidth>0}).length>=12"
                ))
            let sources = try #require(
                try await browser.evaluate(
                    "Array.from(document.querySelectorAll('.gallery img')).map(function(i){return i.getAttribute('src')})")
                    as? [String])
            #expect(sources.count >= 12)
            var decoded = 0
            for source in sources.prefix(12) {
                let thumbnail = try await server.get(source, as: alice)
                if thumbnail.status == 200, TestServer.decodedJPEGSize(thumbnail.body) != nil { decoded += 1 }
            }
            #expect(decoded == 12)
            let jobImages = try await server.store.images(jobID: jobID, validOnly: true, afterID: 0, limit: 1000).map(\.id)
            #expect(sources.allSatisfy { source in jobImages.contains { source == "/v1/images/\($0)/thumbnail" } })

            // A reject category's examples open with URL and reason.
            let examples = try await browser.evaluate(
                "var d=document.querySelector('#rejects details');d.querySelector('summary').click();"
                    + "d.open?d.querySelectorAll('li').length:0")
            #expect(examples as? Int ?? 0 >= 1)

            try Self.save(try await browser.screenshot(width: 1280, height: 900, mobile: false), "job-desktop", in: output)
            try Self.save(try await browser.screenshot(width: 390, height: 844, mobile: true), "job-phone", in: output)
            #expect(
                try await browser.evaluate("document.documentElement.scrollWidth") as? Int ?? .max <= 390,
                "nothing is wider than a phone")
            try await browser.send("Emulation.clearDeviceMetricsOverride")

            // Export as zip from the page, then download through the page's link.
            try await browser.evaluate(
                "var f=document.querySelector('.export-form');f.format.value='zip';f.requestSubmit();true")
            try #require(try await browser.waitFor("document.readyState==='complete' && !!document.querySelector('.export')"))
            let export = try #require(try await server.store.exports(crawlJobID: jobID).first)
            let archive = try await server.runExport(export.id)
            try await browser.navigate(base + path)
            let download =
                try await browser.evaluate(
                    """
                    fetch(document.querySelector('form[action$="/link"]').action,{method:'POST',credentials:'same-origin'})
                      .then(function(r){return r.arrayBuffer().then(function(b){var v=new Uint8Array(b);
                        return [r.status,r.url,b.byteLength,v[0],v[1]];});})
                    """) as? [Any]
            let fields = try #require(download)
            #expect(fields[0] as? Int == 200)
            #expect((fields[1] as? String)?.contains("/downloads/pxd_") == true)
            #expect(fields[2] as? Int == archive.count)
            #expect(fields[3] as? Int == 0x50 && fields[4] as? Int == 0x4B, "a zip archive")
            try Self.save(try await browser.screenshot(width: 1280, height: 900, mobile: false), "export-desktop", in: output)
            try await browser.navigate(base + "/")
            try Self.save(try await browser.screenshot(width: 390, height: 844, mobile: true), "dashboard-phone", in: output)
            #expect(try await browser.evaluate("document.documentElement.scrollWidth") as? Int ?? .max <= 390)
        }
    }

    static func save(_ png: Data, _ name: String, in directory: URL) throws {
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let file = directory.appendingPathComponent("\(name).png")
        try png.write(to: file)
        print("screenshot: \(file.path)")
    }
}
