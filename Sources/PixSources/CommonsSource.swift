import Foundation
import Logging
import PixCore
import PixFetch

/// Wikimedia Commons through the MediaWiki Action API: a File-namespace search with image information.
///
/// One request is `action=query&generator=search&gsrsearch=KEYWORD&gsrnamespace=6&gsrlimit=M&gsroffset=K`
/// `&prop=imageinfo&iiprop=url|size|mime|extmetadata&format=json&formatversion=2&maxlag=5`. Position `p` is
/// search offset `p`; the answer's `continue.gsroffset` is the next call's cursor, and its absence means the keyword
/// ran dry. `query.pages` comes back in page-id order; each page's `index` (1-based, from the search) is its
/// position, so a result the API leaves out (a redirect merged into another) shifts nothing after it.
///
/// With ``Configuration/thumbnailWidth`` (`PIXCRAWL_COMMONS_THUMBNAIL_WIDTH`, or a job's `commons?width=N`) the request
/// adds `iiurlwidth`, with ``Configuration/thumbnailHeight`` `iiurlheight`, and the candidates are Wikimedia's
/// thumbnails fitting that box (the original when it is smaller): far fewer bytes from upload.wikimedia.org when a
/// dataset only needs bounded sizes.
/// License comes from `extmetadata.LicenseShortName`, creator from `extmetadata.Artist` (HTML removed), the landing
/// page is the file's description page.
///
/// Following the API etiquette, one instance sends one request at a time (concurrent chunks queue up), and a
/// `maxlag` error is retried after its `Retry-After`. Search API requests skip robots.txt (Wikimedia's robots.txt
/// covers `/w/`, which the API etiquette explicitly invites clients to call) and `X-Robots-Tag`.
public final class CommonsSource: ImageSource {
    /// How the source talks to the MediaWiki API.
    public struct Configuration: Sendable {
        /// Wikimedia Commons' API endpoint.
        public static let defaultBaseURL = "https://commons.wikimedia.org/w/api.php"

        /// The `api.php` endpoint URL.
        public var baseURL: String
        /// Results per request (`gsrlimit`, at most 500).
        public var pageSize: Int = 50
        /// The deepest position planned for a keyword: CirrusSearch serves the first 10,000 results.
        public var maxDepth: Int? = 10_000
        /// The `maxlag` sent with every request, in seconds (Wikimedia asks bots for 5).
        public var maxlag: Int = 5
        /// How often a `maxlag` error is retried before the page fails.
        public var maxlagRetries: Int = 5
        /// The wait after a `maxlag` error when the response has no `Retry-After`.
        public var maxlagDefaultWait: Duration = .seconds(5)
        /// The longest `Retry-After` honoured after a `maxlag` error; longer fails the page.
        public var maxlagMaxWait: Duration = .seconds(120)
        /// Appended to the keyword in `gsrsearch`; `filetype:bitmap` keeps videos, PDFs, audio and drawings (which
        /// could never pass validation) out of the results. `nil` searches the keyword alone.
        public var searchFilter: String? = "filetype:bitmap"
        /// When set, candidates are thumbnails of at most this width (`iiurlwidth`) instead of the originals.
        public var thumbnailWidth: Int?
        /// When set, candidates are thumbnails of at most this height (`iiurlheight`; with a width, the thumbnail fits
        /// the box) instead of the originals.
        public var thumbnailHeight: Int?
        /// Retries of API requests (429 and 5xx honour `Retry-After`; network errors back off).
        public var retryPolicy = RetryPolicy(
            maxAttempts: 4, baseDelay: .seconds(1), maxDelay: .seconds(30), maxRetryAfter: .seconds(120))
        /// Largest API response accepted.
        public var maxResponseBytes: Int = 16 * 1024 * 1024

        /// Creates a configuration.
        /// - Parameter baseURL: the `api.php` endpoint URL.
        public init(baseURL: String = defaultBaseURL) {
            self.baseURL = baseURL
        }
    }

    /// `commons`.
    public let name = "commons"
    /// ``Configuration/maxDepth`` (10,000 by default).
    public let maxDepth: Int?
    /// What this source was created with.
    public let configuration: Configuration

    private let downloader: Downloader
    private let logger: Logger
    private let gate = AsyncSerialGate()

    /// Creates the source.
    /// - Parameters:
    ///   - configuration: endpoint, page size and etiquette settings.
    ///   - downloader: performs the HTTP requests (its User-Agent names PixCrawler and a contact URL, as
    ///     Wikimedia's User-Agent policy requires).
    ///   - logger: receives `maxlag` waits.
    public init(configuration: Configuration = Configuration(), downloader: Downloader, logger: Logger) {
        self.configuration = configuration
        self.downloader = downloader
        self.logger = logger
        maxDepth = configuration.maxDepth
    }

    /// Fetches the results from search offset `cursor` (or `range.lowerBound`) up to the page size, within `range`.
    /// - Parameters:
    ///   - keyword: the search query.
    ///   - range: result positions of the chunk.
    ///   - cursor: the `nextCursor` of the previous call, or `nil` to start at `range.lowerBound`.
    /// - Throws: ``SourceError``.
    public func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let offset = try SourceCursor.start(cursor, in: range, source: name, keyword: keyword)
        let upper = min(range.upperBound, maxDepth ?? range.upperBound)
        guard offset < upper else {
            return SourcePage(candidates: [], nextCursor: nil, exhausted: offset >= (maxDepth ?? .max))
        }
        let limit = min(max(1, configuration.pageSize), upper - offset, 500)
        let batch = try await gate.run {
            try await self.batch(keyword: keyword, offset: offset, limit: limit)
        }
        let ordered = batch.pages.sorted { ($0.index ?? .max, $0.pageid ?? 0) < ($1.index ?? .max, $1.pageid ?? 0) }
        var candidates: [ImageCandidate] = []
        for (rank, page) in ordered.enumerated() {
            let position = page.index.map { $0 - 1 } ?? offset + rank
            guard position >= offset, position < upper, let info = page.imageinfo?.first,
                let url = info.thumburl ?? info.url, !url.isEmpty
            else {
                continue
            }
            let metadata = info.extmetadata ?? [:]
            let license = metadata["LicenseShortName"]?.value?.text.strippingMarkup
            let creator = metadata["Artist"]?.value?.text.strippingMarkup
            let title = metadata["ObjectName"]?.value?.text.strippingMarkup ?? page.title.map(Self.fileTitle)
            candidates.append(
                ImageCandidate(
                    url: url, keyword: keyword, source: name, position: position,
                    license: license.flatMap { $0.isEmpty ? nil : $0 },
                    creator: creator.flatMap { $0.isEmpty ? nil : $0 },
                    landingURL: info.descriptionurl, title: title,
                    declaredWidth: info.thumburl == nil ? info.width : info.thumbwidth,
                    declaredHeight: info.thumburl == nil ? info.height : info.thumbheight,
                    declaredBytes: info.thumburl == nil ? info.size : nil))
        }
        let continueOffset = batch.nextOffset
        let exhausted = continueOffset == nil || (continueOffset ?? 0) >= (maxDepth ?? .max)
        let nextCursor = continueOffset.flatMap { $0 < upper && $0 > offset ? String($0) : nil }
        return SourcePage(candidates: candidates, nextCursor: exhausted ? nil : nextCursor, exhausted: exhausted)
    }

    /// `File:Red fox.jpg` → `Red fox`.
    static func fileTitle(_ title: String) -> String {
        var name = title.hasPrefix("File:") ? String(title.dropFirst(5)) : title
        if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 5 {
            name = String(name[..<dot])
        }
        return name
    }

    // MARK: - Requests

    /// The pages of one search batch, following property continuation until the batch is complete.
    private func batch(keyword: String, offset: Int, limit: Int) async throws -> (
        pages: [CommonsPage], nextOffset: Int?
    ) {
        let search = configuration.searchFilter.map { "\(keyword) \($0)" } ?? keyword
        var parameters: [(String, String)] = [
            ("action", "query"), ("format", "json"), ("formatversion", "2"), ("generator", "search"),
            ("gsrsearch", search), ("gsrnamespace", "6"), ("gsrlimit", String(limit)),
            ("gsroffset", String(offset)), ("prop", "imageinfo"), ("iiprop", "url|size|mime|extmetadata"),
            ("iiextmetadatafilter", "LicenseShortName|Artist|ObjectName|LicenseUrl"),
            ("maxlag", String(configuration.maxlag)),
        ]
        if let width = configuration.thumbnailWidth, width > 0 { parameters.append(("iiurlwidth", String(width))) }
        if let height = configuration.thumbnailHeight, height > 0 { parameters.append(("iiurlheight", String(height))) }
        var pages: [Int: CommonsPage] = [:]
        var unnumbered: [CommonsPage] = []
        var continuation: [(String, String)] = []
        for _ in 0..<50 {
            let response = try await request(parameters + continuation, keyword: keyword)
            for page in response.query?.pages ?? [] {
                guard let id = page.pageid else {
                    unnumbered.append(page)
                    continue
                }
                if var existing = pages[id] {
                    if existing.imageinfo?.isEmpty ?? true { existing.imageinfo = page.imageinfo }
                    existing.index = existing.index ?? page.index
                    pages[id] = existing
                } else {
                    pages[id] = page
                }
            }
            let next = response.continue ?? [:]
            let propertyContinuation = next.keys.contains { $0 != "gsroffset" && $0 != "continue" }
            if response.batchcomplete == true || !propertyContinuation {
                return (Array(pages.values) + unnumbered, next["gsroffset"]?.int)
            }
            // The batch's image information did not fit: send every continuation value back, as the API asks.
            continuation = next.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) }
        }
        throw SourceError(
            .malformedResponse, source: name, keyword: keyword,
            message: "the MediaWiki API kept asking to continue one batch at offset \(offset); giving up")
    }

    private func request(_ parameters: [(String, String)], keyword: String) async throws -> CommonsResponse {
        let url = QueryString.url(configuration.baseURL, parameters)
        var lagged = 0
        while true {
            let response: FetchResponse
            do {
                response = try await downloader.fetch(
                    FetchRequest(
                        url: url, headers: ["Accept": "application/json"],
                        maxBodyBytes: configuration.maxResponseBytes, respectRobotsTxt: false,
                        respectRobotsTag: false, retryPolicy: configuration.retryPolicy))
            } catch let error as FetchError {
                throw SourceError.fetch(error, source: name, keyword: keyword, what: "the Commons search")
            }
            let decoded: CommonsResponse
            do {
                decoded = try JSONDecoder().decode(CommonsResponse.self, from: Data(response.body))
            } catch {
                throw SourceError(
                    .malformedResponse, source: name, keyword: keyword, status: response.status,
                    message: "the MediaWiki API's answer is not the expected JSON (\(JSONProblem.describe(error))) "
                        + "from \(response.url)")
            }
            guard let apiError = decoded.error else { return decoded }
            guard apiError.code == "maxlag" else {
                throw SourceError(
                    .apiError, source: name, keyword: keyword, status: response.status,
                    message: "the MediaWiki API answered error '\(apiError.code)': \(apiError.info ?? "no details")")
            }
            lagged += 1
            let wait =
                response.headers["retry-after"].flatMap { Int64($0.trimmingWhitespace) }.map { Duration.seconds($0) }
                ?? configuration.maxlagDefaultWait
            guard lagged <= configuration.maxlagRetries, wait <= configuration.maxlagMaxWait else {
                throw SourceError(
                    .apiError, source: name, keyword: keyword, status: response.status,
                    message: "Wikimedia's database replicas are lagging (\(apiError.info ?? "maxlag")) after "
                        + "\(lagged) attempt(s); the servers are busy, try again later")
            }
            logger.info(
                "MediaWiki maxlag; waiting before retrying",
                metadata: [
                    "pixcrawl.source": "\(name)", "pixcrawl.wait_s": "\(wait.wholeSecondsRoundedUp)",
                    "pixcrawl.lag": "\(apiError.info ?? "")",
                ])
            try await Task.sleep(for: wait)
        }
    }
}

/// A MediaWiki Action API answer with `formatversion=2`.
struct CommonsResponse: Decodable {
    struct Query: Decodable {
        var pages: [CommonsPage]?
    }

    struct APIError: Decodable {
        var code: String
        var info: String?
    }

    var batchcomplete: Bool?
    var `continue`: [String: JSONScalar]?
    var query: Query?
    var error: APIError?
}

/// One file page of a search batch.
struct CommonsPage: Decodable {
    var pageid: Int?
    var ns: Int?
    var title: String?
    var index: Int?
    var imageinfo: [CommonsImageInfo]?
}

/// `imageinfo[0]` of a file page.
struct CommonsImageInfo: Decodable {
    /// One `extmetadata` entry; values that are not scalars (rare, language maps) are ignored.
    struct MetadataValue: Decodable {
        private enum CodingKeys: String, CodingKey {
            case value
        }

        var value: JSONScalar?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            value = try? container.decodeIfPresent(JSONScalar.self, forKey: .value)
        }
    }

    var url: String?
    var thumburl: String?
    var thumbwidth: Int?
    var thumbheight: Int?
    var descriptionurl: String?
    var width: Int?
    var height: Int?
    var size: Int?
    var mime: String?
    var extmetadata: [String: MetadataValue]?
}
