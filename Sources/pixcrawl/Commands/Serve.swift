import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PixBlob
import PixCoordinate
import PixCore
import PixFetch
import PixServe
import PixStore

extension PixCrawl {
    /// `pixcrawl serve`: the HTTP API, dashboard and metrics, until SIGTERM or SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Run the HTTP API, dashboard and metrics.",
            discussion: """
                Every /v1 route needs an API token: create a user with `pixcrawl user create --email E`. \
                SIGTERM or SIGINT stops the server gracefully (requests in flight finish).

                When the store holds the local profile that owns `pixcrawl crawl` jobs, the server prints a \
                one-time sign-in link for it on start (valid for an hour, until the server stops), so those \
                jobs can be watched and exported in the dashboard; --no-local-sign-in turns this off.
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: "Address to bind (0.0.0.0 to listen on every interface).")
        var host = "127.0.0.1"

        @Option(help: "Port to bind (0 picks a free one).")
        var port = 8080

        @Option(help: ArgumentHelp("Largest accepted request body in bytes; larger bodies get 413.", valueName: "bytes"))
        var maxBodyBytes = 1 << 20

        @Option(
            help: ArgumentHelp(
                "Largest accepted URL-list upload (POST /v1/lists) in bytes; larger uploads get 413.", valueName: "bytes"))
        var maxListBytes: Int64 = 1 << 30

        @Option(
            name: .customLong("storage-dir"),
            help: ArgumentHelp(
                "Storage holding images/ and exports/: a directory or s3://bucket/prefix?endpoint=…. "
                    + "Default: $PIXCRAWL_STORAGE_URL, else storage.",
                valueName: "url"))
        var storageDirectory: String?

        @Flag(help: "Apply pending migrations before serving (otherwise a store with pending migrations is refused).")
        var migrate = false

        @Flag(help: "Mark the session cookie Secure (when a TLS proxy fronts the server).")
        var secureCookies = false

        @Flag(
            inversion: .prefixedNo,
            help: "Print a one-time dashboard sign-in link for the local profile that owns CLI crawls.")
        var localSignIn = true

        func run() async throws {
            try await reportingErrors {
                guard (0...65_535).contains(port) else { throw CLIError("--port must be between 0 and 65535") }
                guard maxBodyBytes >= 1024 else { throw CLIError("--max-body-bytes must be at least 1024") }
                guard maxListBytes >= 1 else { throw CLIError("--max-list-bytes must be at least 1") }
                PixMetrics.bootstrap()
                let logger = self.store.logger("pixcrawl.serve")
                let crawlStore = try await self.store.openStore(migrate: migrate)
                defer { crawlStore.close() }
                let storage = try StorageSelection(storageDirectory)
                let blobs = try storage.blobStore(logger: logger)
                // Jobs are planned as `pixcrawl crawl` plans them, against the sources' depth limits; the
                // downloader is only there for building sources (the server fetches nothing).
                let downloader = try Downloader(logger: logger)
                let lists = try storage.listStore()
                let planner = JobPlanner(
                    sources: .api(makeSourceFactory(downloader: downloader, lists: lists, logger: logger)))
                let server = PixServer(
                    store: crawlStore,
                    configuration: ServeConfiguration(
                        host: host, port: port, maxBodyBytes: maxBodyBytes, secureCookies: secureCookies,
                        maxListBytes: maxListBytes),
                    readiness: StoreReadiness(store: crawlStore, migrationsDirectory: self.store.migrationsURL),
                    planner: planner,
                    exports: StoreExportService(
                        store: crawlStore, blobs: blobs, exportsDirectory: storage.exportsDirectory(),
                        archiveStorage: try storage.archiveStorage()),
                    blobs: blobs, lists: lists,
                    logger: logger)
                let host = self.host
                let local = localSignIn ? try await crawlStore.profile(email: localProfileEmail) : nil
                let signInCode = local.map { server.signInLinks.issue(for: $0.id) }
                let application = server.makeApplication { port in
                    logger.notice("listening", metadata: ["pixcrawl.address": "http://\(host):\(port)"])
                    if let signInCode {
                        let linkHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
                        FileHandle.standardOutput.write(
                            Data(
                                """
                                sign in to the dashboard as \(localProfileEmail), the owner of CLI crawls (once, within an hour):
                                http://\(linkHost):\(port)/signin/\(signInCode)

                                """.utf8))
                    }
                }
                do {
                    try await application.runService()
                } catch {
                    await downloader.shutdown()
                    throw error
                }
                await downloader.shutdown()
            }
        }
    }
}
