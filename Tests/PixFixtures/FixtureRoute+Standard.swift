import PixDemo

/// The standard routes: good images and "the bad internet".
///
/// | path | answer |
/// |---|---|
/// | `/robots.txt` | ``FixtureRoute/robotsTxt`` (PixCrawler may not fetch `/private/`) |
/// | `/img/SEED.jpg`, `/img/SEED.png`, `/img/SEED.webp` `?w=&h=&q=` | a generated photo-like image (default 320×240) |
/// | `/private/SEED.jpg` | an image robots.txt disallows for PixCrawler |
/// | `/noai/SEED.jpg` | an image with `X-Robots-Tag: noai` |
/// | `/robots-tag/SEED.jpg?tag=VALUE` | an image with `X-Robots-Tag: VALUE` |
/// | `/dup/NAME.jpg` | the same JPEG bytes for every NAME (duplicates under two URLs) |
/// | `/bad/truncated.jpg` | a JPEG cut before its end (200, short body) |
/// | `/bad/bad-crc.png` | a PNG whose IDAT CRC is wrong |
/// | `/bad/html.jpg` | an HTML page served as `image/jpeg` |
/// | `/bad/image.svg`, `/bad/image.gif` | an SVG and a GIF |
/// | `/bad/bomb.png` | a tiny PNG declaring 100000×100000 |
/// | `/bad/truncated.webp` | a WebP cut inside its bitstream (200, short body) |
/// | `/bad/corrupt.webp` | a WebP with damaged bitstream bytes (valid RIFF framing) |
/// | `/bad/webp-as.jpg` | a valid WebP served as `image/jpeg` under a `.jpg` name (sniffed as WebP) |
/// | `/bad/bomb.webp` | a tiny lossless WebP declaring 16384×16384 |
/// | `/big?bytes=N&length=1` | N filler bytes; `length=0` omits `Content-Length` (ends by closing) |
/// | `/drip?interval_ms=200` | declares 200000 bytes, trickles one per interval, never finishes |
/// | `/status/CODE` | that status |
/// | `/flaky/429/KEY.jpg?fail=1&after=1` | 429 with `Retry-After: after` for the first `fail` requests, then an image |
/// | `/flaky/500/KEY.jpg?fail=2` | 500 for the first `fail` requests, then an image |
/// | `/redirect/N/KEY.jpg` | a chain of N redirects ending at an image |
/// | `/redirect/to?location=URL` | a redirect to any URL (`file:`, `gopher:`, another host) |
/// | `/redirect/loopback2?port=P&path=/img/1.jpg` | a redirect to `http://127.0.0.2:P/path` |
extension FixtureRoute {
    /// The robots.txt of the standard routes: PixCrawler's own group keeps it out of `/private/` (except PNGs
    /// there) and away from `?nocrawl` URLs; every other crawler is kept out of everything.
    public static let robotsTxt = """
        # Fixture robots.txt
        User-agent: *
        Disallow: /

        User-agent: PixCrawler
        Disallow: /private/
        Allow: /private/*.png$
        Disallow: /*?nocrawl

        Sitemap: http://example.invalid/sitemap.xml

        """

    /// The seed every `/dup/` URL serves.
    public static let duplicateSeed: UInt64 = 4242

    /// All standard routes, in table order (later routes added to a server take precedence).
    public static var standard: [FixtureRoute] {
        [
            FixtureRoute(.exact("/robots.txt")) { _ in .text(robotsTxt) },
            FixtureRoute(.prefix("/img/")) { image($0) },
            FixtureRoute(.prefix("/private/")) { image($0) },
            FixtureRoute(.prefix("/noai/")) { request in
                var response = image(request)
                response.headers.append(.init("X-Robots-Tag", "noai"))
                return response
            },
            FixtureRoute(.prefix("/robots-tag/")) { request in
                var response = image(request)
                response.headers.append(.init("X-Robots-Tag", request.query["tag"] ?? "noai"))
                return response
            },
            FixtureRoute(.prefix("/dup/")) { _ in
                .bytes(FixtureImages.jpeg(seed: duplicateSeed), contentType: "image/jpeg")
            },
            FixtureRoute(.exact("/bad/truncated.jpg")) { _ in
                .bytes(FixtureImages.truncatedJPEG(seed: 11), contentType: "image/jpeg")
            },
            FixtureRoute(.exact("/bad/bad-crc.png")) { _ in
                .bytes(FixtureImages.pngWithBadCRC(seed: 12), contentType: "image/png")
            },
            FixtureRoute(.exact("/bad/html.jpg")) { _ in .bytes(FixtureImages.html, contentType: "image/jpeg") },
            FixtureRoute(.exact("/bad/image.svg")) { _ in .bytes(FixtureImages.svg, contentType: "image/svg+xml") },
            FixtureRoute(.exact("/bad/image.gif")) { _ in .bytes(FixtureImages.gif, contentType: "image/gif") },
            FixtureRoute(.exact("/bad/bomb.png")) { _ in
                .bytes(FixtureImages.pngDeclaring(width: 100_000, height: 100_000), contentType: "image/png")
            },
            FixtureRoute(.exact("/bad/truncated.webp")) { _ in
                .bytes(FixtureImages.truncatedWebP(seed: 13), contentType: "image/webp")
            },
            FixtureRoute(.exact("/bad/corrupt.webp")) { _ in
                .bytes(FixtureImages.corruptWebP(seed: 14), contentType: "image/webp")
            },
            FixtureRoute(.exact("/bad/webp-as.jpg")) { _ in
                .bytes(FixtureImages.webp(seed: 15), contentType: "image/jpeg")
            },
            FixtureRoute(.exact("/bad/bomb.webp")) { _ in
                .bytes(FixtureImages.webpDeclaring(width: 16_384, height: 16_384), contentType: "image/webp")
            },
            FixtureRoute(.exact("/big")) { request in
                FixtureResponse(
                    headers: [.init("Content-Type", "image/jpeg")],
                    body: .filler(
                        count: request.intQuery("bytes", default: 64 << 20),
                        declaresLength: request.intQuery("length", default: 1) != 0))
            },
            FixtureRoute(.exact("/drip")) { request in
                FixtureResponse(
                    headers: [.init("Content-Type", "image/jpeg")],
                    body: .drip(
                        declaredLength: 200_000, chunk: [0xFF],
                        interval: .milliseconds(request.intQuery("interval_ms", default: 200))))
            },
            FixtureRoute(.prefix("/status/")) { request in .status(Int(request.stem) ?? 500) },
            FixtureRoute(.prefix("/flaky/429/")) { request in
                guard request.sequence > request.intQuery("fail", default: 1) else {
                    return .status(429, headers: [.init("Retry-After", request.query["after"] ?? "1")])
                }
                return image(request, seed: seed(of: request.stem))
            },
            FixtureRoute(.prefix("/flaky/500/")) { request in
                guard request.sequence > request.intQuery("fail", default: 2) else { return .status(500) }
                return image(request, seed: seed(of: request.stem))
            },
            FixtureRoute(.prefix("/redirect/")) { request in
                let parts = request.path.split(separator: "/")
                guard parts.count >= 3, let remaining = Int(parts[1]) else { return .status(404) }
                let rest = parts[2...].joined(separator: "/")
                guard remaining > 0 else { return image(request, seed: seed(of: request.stem)) }
                return .redirect(to: "/redirect/\(remaining - 1)/\(rest)")
            },
            FixtureRoute(.exact("/redirect/to")) { request in
                .redirect(to: request.query["location"] ?? "/")
            },
            FixtureRoute(.exact("/redirect/loopback2")) { request in
                let port = request.query["port"] ?? "80"
                return .redirect(to: "http://127.0.0.2:\(port)\(request.query["path"] ?? "/img/1.jpg")")
            },
        ]
    }

    /// A generated image for `/…/SEED.jpg|png|webp?w=&h=&q=`; the extension picks the format.
    public static func image(_ request: FixtureRequest, seed explicitSeed: UInt64? = nil) -> FixtureResponse {
        let seed = explicitSeed ?? seed(of: request.stem)
        let width = min(max(request.intQuery("w", default: 320), 1), 4096)
        let height = min(max(request.intQuery("h", default: 240), 1), 4096)
        if request.path.hasSuffix(".png") {
            return .bytes(FixtureImages.png(seed: seed, width: width, height: height), contentType: "image/png")
        }
        let quality = min(max(request.intQuery("q", default: 85), 1), 100)
        if request.path.hasSuffix(".webp") {
            return .bytes(
                FixtureImages.webp(seed: seed, width: width, height: height, quality: quality), contentType: "image/webp")
        }
        return .bytes(
            FixtureImages.jpeg(seed: seed, width: width, height: height, quality: quality), contentType: "image/jpeg")
    }
}

extension FixtureServer {
    /// Starts a server with the standard routes.
    /// - Throws: ``PixDemo/FixtureServerError`` when the address cannot be bound.
    public convenience init(host: String = "127.0.0.1", port: UInt16 = 0) throws {
        try self.init(host: host, port: port, routes: FixtureRoute.standard)
    }
}
