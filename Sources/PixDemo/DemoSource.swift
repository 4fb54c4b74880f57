import Logging
import PixCore
import PixFetch
import PixSources
import Synchronization

/// The offline demo: a picture library served from this process, so `pixcrawl crawl … --source demo` runs the
/// whole data path (fetch, validate, store, export) on a machine without internet.
///
/// On first use it starts an in-process web server on `127.0.0.1` (a free port) serving ``DemoCorpus``:
/// for keyword `K` and position `p` it proposes `http://127.0.0.1:PORT/demo/SLUG/p.jpg` (or `.png`, `.webp`), a real
/// generated photo-like image, with about one in ten a realistic bad apple (truncated JPEG, HTML served as
/// `image/jpeg`, too small, 404, duplicate bytes), so the demo's summary shows rejections by category.
/// Candidates carry demo licence, creator and landing page.
///
/// The downloader refuses loopback addresses unless allowed: the caller must add ``requiredAllowedNetworks`` to
/// the address policy of the downloader that fetches the demo's images, and of no other source's.
public final class DemoSource: ImageSource {
    /// The networks a downloader must allow to fetch demo images: `127.0.0.1/32`.
    public static let requiredAllowedNetworks: [String] = ["127.0.0.1/32"]

    /// ``requiredAllowedNetworks`` as ranges, ready for `AddressPolicy(allowedNetworks:)`.
    public static var requiredNetworkRanges: [NetworkRange] {
        requiredAllowedNetworks.compactMap { NetworkRange($0) }
    }

    /// `demo`.
    public let name = "demo"
    /// Positions served per keyword (10,000 by default).
    public let maxDepth: Int?
    /// Candidates returned per call at most.
    public let pageSize: Int

    private let logger: Logger
    private let server = Mutex<DemoServer?>(nil)

    /// Creates the demo source; its server starts on first use.
    /// - Parameters:
    ///   - maxDepth: positions served per keyword.
    ///   - pageSize: candidates returned per call at most.
    ///   - logger: receives the server's address when it starts.
    public init(maxDepth: Int = 10_000, pageSize: Int = 100, logger: Logger) {
        self.maxDepth = max(0, maxDepth)
        self.pageSize = max(1, pageSize)
        self.logger = logger
    }

    deinit {
        server.withLock { $0?.stop() }
    }

    /// `http://127.0.0.1:PORT` of the demo server, starting it if needed.
    /// - Throws: ``SourceError`` with ``SourceError/Code/unavailable`` when no loopback port can be bound.
    public func baseURL() async throws(SourceError) -> String {
        let server = runningServer()
        do {
            return try await server.baseURL()
        } catch {
            throw SourceError(
                .unavailable, source: name, message: "the offline demo could not start its local server: \(error)")
        }
    }

    /// Stops the demo server (a later call starts a new one on another port).
    public func shutdown() {
        let stopped = server.withLock { server -> DemoServer? in
            defer { server = nil }
            return server
        }
        stopped?.stop()
    }

    /// Proposes demo URLs for positions `cursor` (or `range.lowerBound`) onwards, up to ``pageSize``, within `range`.
    /// - Parameters:
    ///   - keyword: any keyword; each has its own deterministic list.
    ///   - range: result positions of the chunk.
    ///   - cursor: the `nextCursor` of the previous call, or `nil` to start at `range.lowerBound`.
    /// - Throws: ``SourceError``.
    public func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let start = try SourceCursor.start(cursor, in: range, source: name, keyword: keyword)
        let depth = maxDepth ?? .max
        let end = min(range.upperBound, depth, start + pageSize)
        guard start < end else {
            return SourcePage(candidates: [], nextCursor: nil, exhausted: start >= depth, totalAvailable: depth)
        }
        let base = try await baseURL()
        let slug = DemoCorpus.slug(keyword)
        let candidates = (start..<end).map { position -> ImageCandidate in
            let entry = DemoCorpus.entry(slug: slug, position: position)
            return ImageCandidate(
                url: base + entry.path, keyword: keyword, source: name, position: position, license: entry.license,
                licenseVersion: entry.licenseVersion, creator: entry.creator, landingURL: base + entry.landingPath,
                title: "\(keyword) #\(position + 1)", declaredWidth: entry.width, declaredHeight: entry.height)
        }
        let nextCursor = end < range.upperBound && end < depth ? String(end) : nil
        return SourcePage(
            candidates: candidates, nextCursor: nextCursor, exhausted: end >= depth, totalAvailable: depth)
    }

    private func runningServer() -> DemoServer {
        server.withLock { server in
            if let server { return server }
            let started = DemoServer(logger: logger)
            server = started
            return started
        }
    }
}
