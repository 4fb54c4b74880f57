/// The offline demo's picture library: for every keyword an endless, deterministic list of photo-like images,
/// with the realistic bad apples a crawl meets mixed in.
///
/// Result `position` of a keyword lives at `/demo/SLUG/POSITION.jpg` (or `.png`, `.webp`). About nine in ten are
/// good images (¼ PNG, about a tenth WebP, the rest JPEG, sides 256–1024 px, generated with libjpeg/libpng/libwebp);
/// the rest, chosen by a hash of the
/// slug and position, are in equal shares a truncated JPEG, an HTML page served as `image/jpeg`, an image too
/// small for the default rules (48×36), a 404, and the exact bytes of an earlier good position (a duplicate).
/// Everything is a function of slug and position, so a demo crawl gives the same summary every time.
public enum DemoCorpus {
    /// What a demo URL serves.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A good JPEG.
        case jpeg
        /// A good PNG.
        case png
        /// A good (lossy) WebP.
        case webp
        /// A JPEG cut off before its end.
        case truncatedJPEG
        /// An HTML error page with `Content-Type: image/jpeg`.
        case htmlAsJPEG
        /// A 48×36 JPEG, below the default minimum size.
        case tooSmall
        /// HTTP 404.
        case notFound
        /// The exact bytes of an earlier good position.
        case duplicate

        /// Whether the image passes validation with the default rules.
        public var isGood: Bool { self == .jpeg || self == .png || self == .webp }
    }

    /// One demo result.
    public struct Entry: Sendable, Hashable {
        /// The keyword's slug (`Red Fox!` → `red-fox`).
        public var slug: String
        /// The result position.
        public var position: Int
        /// What the URL serves.
        public var kind: Kind
        /// Seed of the generated picture.
        public var seed: UInt64
        /// Width of the picture (for good images; the declared width otherwise).
        public var width: Int
        /// Height of the picture.
        public var height: Int
        /// For ``Kind/duplicate``: the position whose bytes are served.
        public var duplicateOf: Int?
        /// `/demo/SLUG/POSITION.jpg`, `.png` or `.webp`.
        public var path: String
        /// `/demo/SLUG/POSITION.html`, the landing page.
        public var landingPath: String
        /// Openverse-style licence code.
        public var license: String
        /// Licence version.
        public var licenseVersion: String
        /// The (made-up) creator.
        public var creator: String
    }

    /// The licences demo images carry, in turn.
    static let licenses: [(String, String)] = [("cc0", "1.0"), ("by", "4.0"), ("by-sa", "4.0"), ("pdm", "1.0")]

    /// A keyword as a URL path segment: lowercase ASCII letters and digits, other runs turned into `-`.
    public static func slug(_ keyword: String) -> String {
        var slug = ""
        var pendingDash = false
        for scalar in keyword.lowercased().unicodeScalars {
            if scalar.isASCII && (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)) {
                if pendingDash && !slug.isEmpty { slug.append("-") }
                pendingDash = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        if slug.isEmpty { return "k" + String(seed(of: keyword) % 1_000_000) }
        return slug
    }

    /// Result `position` of `keyword`.
    public static func entry(keyword: String, position: Int) -> Entry {
        entry(slug: slug(keyword), position: position)
    }

    /// Result `position` of a slug.
    public static func entry(slug: String, position: Int) -> Entry {
        var random = SplitMix64(seed: seed(of: "demo/\(slug)/\(position)"))
        let roll = Int(random.next() % 100)
        var kind: Kind
        switch roll {
        case 0..<2: kind = .truncatedJPEG
        case 2..<4: kind = .htmlAsJPEG
        case 4..<6: kind = .tooSmall
        case 6..<8: kind = .notFound
        case 8..<10: kind = .duplicate
        default:
            let pick = random.next()
            kind = pick % 4 == 0 ? .png : (pick / 4) % 7 == 0 ? .webp : .jpeg
        }
        var duplicateOf: Int?
        if kind == .duplicate {
            duplicateOf = (max(0, position - 16)..<position).reversed().first {
                entry(slug: slug, position: $0).kind.isGood
            }
            if duplicateOf == nil { kind = .jpeg }
        }
        let seed = random.next() % 1_000_000_007
        var width = 256 + Int(random.next() % 769)
        var height = min(1024, max(256, width * (60 + Int(random.next() % 81)) / 100))
        if kind == .tooSmall {
            width = 48
            height = 36
        }
        let license = licenses[Int(random.next() % UInt64(licenses.count))]
        let base = "/demo/\(slug)/\(position)"
        return Entry(
            slug: slug, position: position, kind: kind, seed: seed, width: width, height: height,
            duplicateOf: duplicateOf, path: base + (kind == .png ? ".png" : kind == .webp ? ".webp" : ".jpg"),
            landingPath: base + ".html",
            license: license.0, licenseVersion: license.1, creator: "Demo Photographer \(1 + random.next() % 40)")
    }

    /// The bytes a good or duplicate entry serves; `nil` for the others.
    public static func imageBytes(_ entry: Entry) -> [UInt8]? {
        switch entry.kind {
        case .jpeg, .tooSmall:
            return DemoPictures.jpeg(seed: entry.seed, width: entry.width, height: entry.height)
        case .png:
            return DemoPictures.png(seed: entry.seed, width: entry.width, height: entry.height)
        case .webp:
            return DemoPictures.webp(seed: entry.seed, width: entry.width, height: entry.height)
        case .duplicate:
            return entry.duplicateOf.flatMap { imageBytes(DemoCorpus.entry(slug: entry.slug, position: $0)) }
        case .truncatedJPEG, .htmlAsJPEG, .notFound:
            return nil
        }
    }

    /// What the demo server answers to a `GET`: a status, a content type and a body.
    public struct Answer: Sendable, Hashable {
        /// The HTTP status.
        public var status: Int
        /// The `Content-Type`, when there is a body.
        public var contentType: String?
        /// The body.
        public var body: [UInt8]

        /// A `status` answer without a body.
        public static func status(_ status: Int) -> Answer {
            Answer(status: status, contentType: nil, body: [])
        }
    }

    /// `/robots.txt` of the demo server: everything is allowed.
    public static let robots = Answer(
        status: 200, contentType: "text/plain; charset=utf-8", body: Array("User-agent: *\nAllow: /\n".utf8))

    /// The answer for a `/demo/SLUG/POSITION.EXT` path.
    public static func answer(path: String) -> Answer {
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "demo", let dot = parts[2].lastIndex(of: "."),
            let position = Int(parts[2][..<dot]), position >= 0
        else { return .status(404) }
        let entry = entry(slug: String(parts[1]), position: position)
        let ext = parts[2][parts[2].index(after: dot)...]
        if ext == "html" {
            return Answer(
                status: 200, contentType: "text/html; charset=utf-8",
                body: Array(
                    """
                    <!DOCTYPE html>
                    <html><head><title>\(entry.slug) #\(position)</title></head>
                    <body><h1>\(entry.slug) #\(position)</h1><p>By \(entry.creator), \(entry.license) \
                    \(entry.licenseVersion). A picture of the PixCrawler offline demo.</p>
                    <img src="\(entry.path)"></body></html>

                    """.utf8))
        }
        guard path == entry.path else { return .status(404) }
        switch entry.kind {
        case .notFound:
            return .status(404)
        case .htmlAsJPEG:
            return Answer(status: 200, contentType: "image/jpeg", body: DemoPictures.html)
        case .truncatedJPEG:
            return Answer(
                status: 200, contentType: "image/jpeg",
                body: DemoPictures.truncatedJPEG(seed: entry.seed, width: entry.width, height: entry.height))
        case .jpeg, .png, .webp, .tooSmall, .duplicate:
            guard let bytes = imageBytes(entry) else { return .status(404) }
            let contentType =
                bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
                ? "image/png" : bytes.starts(with: Array("RIFF".utf8)) ? "image/webp" : "image/jpeg"
            return Answer(status: 200, contentType: contentType, body: bytes)
        }
    }

    /// The seed a text names: the number itself, or a stable hash (FNV-1a) of the text.
    public static func seed(of stem: String) -> UInt64 {
        if let number = UInt64(stem) { return number }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stem.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
