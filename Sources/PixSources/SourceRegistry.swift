import Foundation
import Logging
import PixCore
import PixFetch
import Synchronization

/// A parsed source specification, as crawl jobs store them: `openverse`, `commons`, `commons?width=N&height=M`, `urls:PATH`,
/// `list:ID`, `demo`.
public enum SourceSpec: Hashable, Sendable, CustomStringConvertible {
    /// Openverse (the default source).
    case openverse
    /// Wikimedia Commons; with a width and/or height (`commons?width=N&height=M`), its thumbnails fitting that box
    /// instead of the originals (`iiurlwidth`, `iiurlheight`).
    case commons(thumbnailWidth: Int?, thumbnailHeight: Int? = nil)
    /// A local URL list file.
    case urls(path: String)
    /// A URL list staged in the shared storage, by id (its SHA-256), and the columns to read
    /// (`list:ID?url=COL&caption=COL&hash=COL&keep=COL,COL`).
    case list(id: String, columns: URLListSource.Columns = URLListSource.Columns())
    /// The offline demo library.
    case demo

    /// The source used when a job names none.
    public static let `default` = SourceSpec.openverse

    /// Parses a specification (case-insensitive names; the path after `urls:` is kept as written).
    /// - Parameter text: `openverse`, `commons`, `commons?width=N`, `urls:PATH`, `list:ID` or `demo`, surrounding
    ///   spaces ignored.
    /// - Throws: ``SourceError`` with ``SourceError/Code/invalidSpec`` for anything else.
    public init(parsing text: String) throws(SourceError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lowered = trimmed.lowercased()
        switch lowered {
        case "openverse": self = .openverse
        case "commons", "wikimedia", "wikimedia-commons": self = .commons(thumbnailWidth: nil)
        case "demo": self = .demo
        default:
            if lowered.hasPrefix("commons?") {
                var box: [String: Int] = [:]
                for option in lowered.dropFirst("commons?".count).split(separator: "&", omittingEmptySubsequences: false) {
                    let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                    guard pair.count == 2, ["width", "height"].contains(pair[0]), box[pair[0]] == nil,
                        let value = Int(pair[1]), Self.thumbnailWidths.contains(value)
                    else {
                        throw SourceError(
                            .invalidSpec, source: trimmed,
                            message: "Commons takes width=N and height=N (1 to \(Self.thumbnailWidths.upperBound) "
                                + "pixels), e.g. commons?width=640")
                    }
                    box[pair[0]] = value
                }
                self = .commons(thumbnailWidth: box["width"], thumbnailHeight: box["height"])
                return
            }
            if lowered.hasPrefix("list:") {
                let rest = trimmed.dropFirst("list:".count)
                let parts = rest.split(separator: "?", maxSplits: 1)
                let id = String(parts.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
                guard URLListStaging.isListID(id) else {
                    throw SourceError(
                        .invalidSpec, source: trimmed,
                        message: "'list:' needs the id of a staged URL list (64 hexadecimal digits)")
                }
                var columns = URLListSource.Columns()
                for option in parts.dropFirst().first?.split(separator: "&") ?? [] {
                    let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                    let value = pair.count == 2 ? pair[1].removingPercentEncoding ?? pair[1] : ""
                    guard pair.count == 2, !value.isEmpty else {
                        throw SourceError(
                            .invalidSpec, source: trimmed, message: "list option '\(option)' needs a column name")
                    }
                    switch pair[0].lowercased() {
                    case "url": columns.url = value.lowercased()
                    case "caption": columns.caption = value.lowercased()
                    case "hash": columns.hash = value.lowercased()
                    case "keep":
                        columns.keep = value.split(separator: ",").map {
                            $0.trimmingCharacters(in: .whitespaces).lowercased()
                        }.filter { !$0.isEmpty }
                    default:
                        throw SourceError(
                            .invalidSpec, source: trimmed,
                            message: "unknown list option '\(pair[0])'; use url=, caption=, hash= or keep=")
                    }
                }
                self = .list(id: id, columns: columns)
                return
            }
            guard lowered.hasPrefix("urls:") else {
                throw SourceError(
                    .invalidSpec, source: trimmed,
                    message: "unknown source '\(trimmed)'; use openverse, commons, urls:PATH (a text, CSV or JSONL "
                        + "list of image URLs), list:ID (a staged list) or demo (offline)")
            }
            let path = String(trimmed.dropFirst("urls:".count)).trimmingCharacters(in: .whitespaces)
            guard !path.isEmpty else {
                throw SourceError(
                    .invalidSpec, source: trimmed,
                    message: "'urls:' needs the path of a URL list file, e.g. urls:images.csv")
            }
            self = .urls(path: path)
        }
    }

    /// The source name stored on chunks and images: `openverse`, `commons`, `urls`, `demo`.
    public var name: String {
        switch self {
        case .openverse: "openverse"
        case .commons: "commons"
        case .urls, .list: "urls"
        case .demo: "demo"
        }
    }

    /// Thumbnail widths (and heights) a Commons specification may ask for.
    public static let thumbnailWidths = 1...20_000

    /// The canonical specification: `openverse`, `commons`, `commons?width=N`, `urls:PATH`, `demo`.
    public var description: String {
        switch self {
        case .commons(let width, let height) where width != nil || height != nil:
            "commons?" + [width.map { "width=\($0)" }, height.map { "height=\($0)" }].compactMap { $0 }.joined(separator: "&")
        case .urls(let path): "urls:\(path)"
        case .list(let id, let columns):
            "list:\(id)" + URLListSource.Columns.query(columns)
        default: name
        }
    }
}

/// Turns source specifications into ready sources sharing one ``Downloader``, each created once and reused (so
/// rate-limit state, tokens, a URL list's index and the demo server are shared by all chunks of a process).
///
/// Openverse and Commons are refused without the operator's contact (`PIXCRAWL_CONTACT`, sent in the User-Agent);
/// the demo and URL lists only warn.
///
/// Environment: `PIXCRAWL_OPENVERSE_URL` and `PIXCRAWL_COMMONS_URL` override the providers' base URLs (tests and
/// mirrors); `PIXCRAWL_OPENVERSE_CLIENT_ID` / `PIXCRAWL_OPENVERSE_CLIENT_SECRET` authenticate Openverse;
/// `PIXCRAWL_OPENVERSE_PAGE_SIZE` / `PIXCRAWL_OPENVERSE_MAX_RESULTS` raise its page size (authenticated) and result
/// depth for applications Openverse has granted more; `PIXCRAWL_COMMONS_THUMBNAIL_WIDTH` crawls Commons' thumbnails.
public final class SourceRegistry: Sendable {
    /// Settings applied to the sources the registry creates.
    public struct Options: Sendable {
        /// Openverse settings; the environment's base URL and credentials are applied on top.
        public var openverse = OpenverseSource.Configuration()
        /// Commons settings; the environment's base URL is applied on top.
        public var commons = CommonsSource.Configuration()
        /// Builds the offline demo library (`demo`), when the program has one (`PixDemo`); without it `demo`
        /// is refused.
        public var demo: (@Sendable (Logger) -> any ImageSource)?
        /// Rows of a URL list per page: a worker checkpoints after each page
        /// (`PIXCRAWL_URLS_PAGE_SIZE` overrides it).
        public var urlListPageSize = 50
        /// Where staged lists (`list:ID`) are read from: the shared storage.
        public var listStore: (any ListObjectStore)?

        /// Default options.
        public init() {}
    }

    private let downloader: Downloader
    private let environment: [String: String]
    private let options: Options
    private let logger: Logger
    private let sources = Mutex<[SourceSpec: any ImageSource]>([:])

    /// Creates a registry.
    /// - Parameters:
    ///   - downloader: shared by every source that makes HTTP requests.
    ///   - environment: where base URLs and credentials come from (the process environment by default).
    ///   - options: settings of the created sources.
    ///   - logger: passed to the sources.
    public init(
        downloader: Downloader, environment: [String: String] = ProcessInfo.processInfo.environment,
        options: Options = Options(), logger: Logger
    ) {
        self.downloader = downloader
        self.environment = environment
        self.options = options
        self.logger = logger
    }

    /// The source for a specification string, created on first request.
    /// - Parameter spec: `openverse`, `commons`, `commons?width=N`, `urls:PATH`, `list:ID` or `demo`.
    /// - Throws: ``SourceError`` for an unknown specification or an unreadable URL list.
    public func source(for spec: String) throws(SourceError) -> any ImageSource {
        try source(for: SourceSpec(parsing: spec))
    }

    /// The source for a specification, created on first request.
    /// - Throws: ``SourceError`` for an unreadable URL list.
    public func source(for spec: SourceSpec) throws(SourceError) -> any ImageSource {
        if let existing = sources.withLock({ $0[spec] }) { return existing }
        let created = try make(spec)
        return sources.withLock { sources in
            if let raced = sources[spec] { return raced }
            sources[spec] = created
            return created
        }
    }

    /// Stops what the created sources run in the background (the demo server).
    public func shutdown() {
        let all = sources.withLock { sources in
            defer { sources.removeAll() }
            return Array(sources.values)
        }
        for source in all { source.shutdown() }
    }

    /// Refuses a provider that asks crawlers to name their operator when no contact is set; warns for the others.
    private func checkContact(_ spec: SourceSpec) throws(SourceError) {
        guard PixCrawlVersion.operatorContact(environment) == nil else { return }
        switch spec {
        case .openverse, .commons:
            let provider = spec == .openverse ? "Openverse" : "Wikimedia Commons"
            throw SourceError(
                .contactRequired, source: spec.name,
                message: "\(provider) asks crawlers to identify who runs them, and PixCrawler sends the operator's "
                    + "contact in its User-Agent: set PIXCRAWL_CONTACT to a URL or e-mail address where you can be "
                    + "reached (export PIXCRAWL_CONTACT=you@example.org) and run again")
        case .urls, .list, .demo:
            logger.warning(
                "PIXCRAWL_CONTACT is not set; site operators cannot reach you through the User-Agent",
                metadata: ["pixcrawl.source": "\(spec.name)"])
        }
    }

    private func make(_ spec: SourceSpec) throws(SourceError) -> any ImageSource {
        try checkContact(spec)
        switch spec {
        case .openverse:
            var configuration = options.openverse
            if let url = environment["PIXCRAWL_OPENVERSE_URL"], !url.isEmpty { configuration.baseURL = url }
            if let size = environment["PIXCRAWL_OPENVERSE_PAGE_SIZE"].flatMap(Int.init), size > 0 {
                configuration.authenticatedPageSize = size
            }
            if let depth = environment["PIXCRAWL_OPENVERSE_MAX_RESULTS"].flatMap(Int.init), depth > 0 {
                configuration.maxResults = depth
            }
            if let credentials = OpenverseSource.Credentials.fromEnvironment(environment) {
                configuration.credentials = credentials
            } else if !(environment["PIXCRAWL_OPENVERSE_CLIENT_ID"] ?? "").isEmpty
                || !(environment["PIXCRAWL_OPENVERSE_CLIENT_SECRET"] ?? "").isEmpty
            {
                logger.warning(
                    """
                    only one of PIXCRAWL_OPENVERSE_CLIENT_ID and PIXCRAWL_OPENVERSE_CLIENT_SECRET is set; \
                    searching Openverse anonymously
                    """)
            }
            return OpenverseSource(configuration: configuration, downloader: downloader, logger: logger)
        case .commons:
            var configuration = options.commons
            if let url = environment["PIXCRAWL_COMMONS_URL"], !url.isEmpty { configuration.baseURL = url }
            if let width = environment["PIXCRAWL_COMMONS_THUMBNAIL_WIDTH"].flatMap(Int.init), width > 0 {
                configuration.thumbnailWidth = width
            }
            if case .commons(let width, let height) = spec, width != nil || height != nil {
                configuration.thumbnailWidth = width
                configuration.thumbnailHeight = height
            }
            return CommonsSource(configuration: configuration, downloader: downloader, logger: logger)
        case .urls(let path):
            let pageSize = environment["PIXCRAWL_URLS_PAGE_SIZE"].flatMap(Int.init) ?? options.urlListPageSize
            return try URLListSource(path: path, pageSize: max(1, pageSize), logger: logger)
        case .list(let id, let columns):
            guard let store = options.listStore else {
                throw SourceError(
                    .fileUnreadable, source: "urls",
                    message: "the staged URL list \(id) needs the shared storage (PIXCRAWL_STORAGE_URL)")
            }
            let pageSize = environment["PIXCRAWL_URLS_PAGE_SIZE"].flatMap(Int.init) ?? options.urlListPageSize
            return try URLListSource(
                stagedList: id, store: store, columns: columns, pageSize: max(1, pageSize), logger: logger)
        case .demo:
            guard let demo = options.demo else {
                throw SourceError(.invalidSpec, source: "demo", message: "the offline demo is not part of this program")
            }
            return demo(logger)
        }
    }
}
