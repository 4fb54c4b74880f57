import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A stand-in for the MediaWiki Action API of Wikimedia Commons, shaped like the real one for
/// `action=query&generator=search&gsrnamespace=6&prop=imageinfo&format=json&formatversion=2`.
///
/// Answers `{batchcomplete, continue: {gsroffset, continue}, query: {pages: [...]}}` with `pages` in page-id order
/// (not search order; each page has its search `index`), `imageinfo[0]` with `url`, `descriptionurl`, `width`,
/// `height`, `size`, `mime` and `extmetadata` (`LicenseShortName`, `Artist` as HTML, `ObjectName`), no `query`
/// at all when nothing matches, and `continue` only while results remain. Search words with a colon
/// (`filetype:bitmap`) are treated as filters, not as part of the keyword.
///
/// Tests switch on what they need: `maxlag` errors with `Retry-After`, other API errors, malformed JSON,
/// image information split over several responses (property continuation), a response delay, and the peak
/// number of requests handled at once.
public final class CommonsFixture: Sendable {
    private struct State {
        var maxlag: (remaining: Int, retryAfter: Int) = (0, 0)
        var apiError: (remaining: Int, code: String, info: String) = (0, "", "")
        var malformed = 0
        var responseDelay: Duration = .zero
        var imageInfoPerResponse: Int?
        var active = 0
        var peakActive = 0
        var mergedPositions: Set<Int> = []
    }

    /// The results served.
    public let corpus: FixtureSearchCorpus
    /// The API path, `/w/api.php`.
    public let path: String
    private let state = Mutex(State())

    /// Creates the fixture.
    /// - Parameters:
    ///   - corpus: result counts and results.
    ///   - path: where the API answers.
    public init(corpus: FixtureSearchCorpus, path: String = "/w/api.php") {
        self.corpus = corpus
        self.path = path
    }

    /// The API route; add it to a ``FixtureServer`` that also serves the standard routes.
    public var routes: [FixtureRoute] {
        [FixtureRoute(.exact(path), method: "GET") { [self] in answer($0) }]
    }

    /// `BASE/w/api.php` for a server.
    public func endpoint(on server: FixtureServer) -> String { server.url(path) }

    /// Answers the next `count` requests with a `maxlag` error and `Retry-After: retryAfter`.
    public func respondMaxlag(times count: Int, retryAfter: Int = 0) {
        state.withLock { $0.maxlag = (count, retryAfter) }
    }

    /// Answers the next `count` requests with the API error `code`.
    public func respondError(times count: Int, code: String, info: String) {
        state.withLock { $0.apiError = (count, code, info) }
    }

    /// Answers the next `count` requests with a body that is not valid JSON.
    public func respondMalformed(times count: Int) {
        state.withLock { $0.malformed = count }
    }

    /// Delays every answer, so overlapping requests can be observed.
    public func setResponseDelay(_ delay: Duration) {
        state.withLock { $0.responseDelay = delay }
    }

    /// Splits each batch's image information over responses of at most `count` files (MediaWiki does so when the
    /// metadata is too large), continued with `iicontinue`; `nil` answers whole batches.
    public func setImageInfoPerResponse(_ count: Int?) {
        state.withLock { $0.imageInfoPerResponse = count }
    }

    /// Leaves the results at these positions out of `pages`, as MediaWiki does when a search result is a redirect
    /// merged into another page of the batch; the other pages keep their `index`.
    public func setMergedPositions(_ positions: Set<Int>) {
        state.withLock { $0.mergedPositions = positions }
    }

    /// The most requests that were being handled at the same moment.
    public var peakConcurrentRequests: Int { state.withLock { $0.peakActive } }

    // MARK: - Handler

    private func answer(_ request: FixtureRequest) -> FixtureResponse {
        let (delay, perResponse, merged) = state.withLock { state -> (Duration, Int?, Set<Int>) in
            state.active += 1
            state.peakActive = max(state.peakActive, state.active)
            return (state.responseDelay, state.imageInfoPerResponse, state.mergedPositions)
        }
        defer { state.withLock { $0.active -= 1 } }
        if delay > .zero { FixtureServerClock.sleep(delay) }

        enum Trouble {
            case none
            case maxlag(Int)
            case apiError(String, String)
            case malformed
        }
        let trouble = state.withLock { state -> Trouble in
            if state.maxlag.remaining > 0 {
                state.maxlag.remaining -= 1
                return .maxlag(state.maxlag.retryAfter)
            }
            if state.apiError.remaining > 0 {
                state.apiError.remaining -= 1
                return .apiError(state.apiError.code, state.apiError.info)
            }
            if state.malformed > 0 {
                state.malformed -= 1
                return .malformed
            }
            return .none
        }
        switch trouble {
        case .maxlag(let retryAfter):
            return FixtureJSON.response(
                [
                    "error": [
                        "code": "maxlag", "info": "Waiting for db1234: 7 seconds lagged.", "host": "db1234", "lag": 7,
                        "type": "db", "docref": "See https://commons.wikimedia.org/w/api.php for API usage.",
                    ],
                    "servedby": "mw-api-ext.fixture",
                ],
                headers: [.init("Retry-After", String(retryAfter)), .init("X-Database-Lag", "7")])
        case .apiError(let code, let info):
            return FixtureJSON.response([
                "error": ["code": code, "info": info, "docref": "See the API help."], "servedby": "mw-api-ext.fixture",
            ])
        case .malformed:
            return FixtureJSON.malformed
        case .none:
            break
        }

        let query = request.query
        guard query["action"] == "query", query["generator"] == "search", query["formatversion"] == "2",
            query["format"] == "json", let search = query["gsrsearch"]
        else {
            return FixtureJSON.response([
                "error": ["code": "badparams", "info": "This fixture answers formatversion=2 search queries only."]
            ])
        }
        let keyword = search.split(separator: " ").filter { !$0.contains(":") }.joined(separator: " ")
        let offset = max(0, request.intQuery("gsroffset", default: 0))
        let limit = min(max(1, request.intQuery("gsrlimit", default: 10)), 500)
        let total = max(0, corpus.resultCount(keyword))
        let end = min(offset + limit, total)
        guard offset < end else { return FixtureJSON.response(["batchcomplete": true]) }

        // Image information for files [infoStart, infoEnd) of the batch; the rest comes in later responses.
        let infoStart = query["iicontinue"].flatMap { Int($0) } ?? 0
        let infoEnd = perResponse.map { min(end - offset, infoStart + $0) } ?? (end - offset)
        var pages: [[String: Any]] = []
        let thumbnailWidth = query["iiurlwidth"].flatMap { Int($0) }
        let thumbnailHeight = query["iiurlheight"].flatMap { Int($0) }
        for position in offset..<end where !merged.contains(position) {
            let item = corpus.item(keyword: keyword, position: position, baseURL: request.baseURL)
            let pageID = Self.pageID(keyword: keyword, position: position)
            var page: [String: Any] = [
                "pageid": pageID, "ns": 6, "title": "File:\(Self.fileName(item))", "index": position + 1,
                "imagerepository": "local",
            ]
            let rank = position - offset
            if rank >= infoStart && rank < infoEnd {
                page["imageinfo"] = [
                    imageInfo(
                        item, pageID: pageID, thumbnailWidth: thumbnailWidth, thumbnailHeight: thumbnailHeight, request)
                ]
            }
            pages.append(page)
        }
        pages.sort { ($0["pageid"] as? Int ?? 0) < ($1["pageid"] as? Int ?? 0) }
        var body: [String: Any] = ["query": ["pages": pages]]
        if infoEnd < end - offset {
            body["continue"] = ["iicontinue": String(infoEnd), "continue": "gsroffset||"]
        } else {
            body["batchcomplete"] = true
            if end < total { body["continue"] = ["gsroffset": end, "continue": "gsroffset||"] }
        }
        return FixtureJSON.response(body)
    }

    private func imageInfo(
        _ item: FixtureSearchItem, pageID: Int, thumbnailWidth: Int?, thumbnailHeight: Int?, _ request: FixtureRequest
    ) -> [String: Any] {
        let user = "Photographer_\(item.position % 7)"
        let artist =
            "<a href=\"//commons.wikimedia.org/wiki/User:\(user)\" title=\"User:\(user)\">"
            + "Photographer \(item.position % 7) &amp; Friends</a>"
        var info: [String: Any] = [
            "size": item.fileSize, "width": item.width, "height": item.height, "url": item.imageURL,
            "descriptionurl": "\(request.baseURL)/wiki/File:\(Self.fileName(item).replacingSpaces)",
            "descriptionshorturl": "\(request.baseURL)/w/index.php?curid=\(pageID)",
            "mime": item.fileType == "png" ? "image/png" : "image/jpeg",
            "extmetadata": [
                "LicenseShortName": ["value": item.licenseShortName, "source": "commons-desc-page", "hidden": ""],
                "Artist": ["value": artist, "source": "commons-desc-page"],
                "ObjectName": ["value": item.title, "source": "original"],
                "LicenseUrl": [
                    "value": "https://creativecommons.org/licenses/\(item.license)/\(item.licenseVersion)",
                    "source": "commons-desc-page", "hidden": "",
                ],
            ],
        ]
        // MediaWiki's thumbnail (ApiQueryImageInfo::getScale, MediaHandler::fitBoxWidth): the width asked for (the
        // file's own when only a height is), narrowed so the height fits `iiurlheight`; the original when that is
        // not narrower than the file.
        if thumbnailWidth != nil || thumbnailHeight != nil {
            var boxWidth = thumbnailWidth ?? item.width
            if let thumbnailHeight, boxWidth * item.height > thumbnailHeight * item.width {
                let ideal = Double(item.width) * Double(thumbnailHeight) / Double(item.height)
                let roundedUp = Int(ideal.rounded(.up))
                boxWidth =
                    Int((Double(roundedUp * item.height) / Double(item.width)).rounded()) > thumbnailHeight
                    ? Int(ideal.rounded(.down)) : roundedUp
            }
            let width = max(1, min(boxWidth, item.width))
            let height = max(1, (item.height * width + item.width / 2) / item.width)
            info["thumburl"] =
                width == item.width
                ? item.imageURL : "\(request.baseURL)/img/\(item.seed).\(item.fileType)?w=\(width)&h=\(height)"
            info["thumbwidth"] = width
            info["thumbheight"] = height
        }
        return info
    }

    /// `Keyword 12.jpg`.
    static func fileName(_ item: FixtureSearchItem) -> String {
        "\(item.title).\(item.fileType)"
    }

    /// A page id that does not follow search order, so clients must sort by `index`.
    static func pageID(keyword: String, position: Int) -> Int {
        Int(FixtureRoute.seed(of: "page-\(keyword)-\(position)") % 90_000_000) + 10_000_000
    }
}

extension String {
    fileprivate var replacingSpaces: String {
        String(map { $0 == " " ? "_" : $0 })
    }
}

/// Blocking sleeps on fixture connection threads.
enum FixtureServerClock {
    static func sleep(_ duration: Duration) {
        var remaining = duration
        let slice = Duration.milliseconds(20)
        while remaining > .zero {
            let step = min(remaining, slice)
            let (seconds, attoseconds) = step.components
            var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            _ = nanosleep(&request, nil)
            remaining -= step
        }
    }
}
