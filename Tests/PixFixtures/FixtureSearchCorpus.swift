import PixDemo

/// The search results the provider fixtures serve: how many results each keyword has, and what result number
/// `position` looks like. Tests choose the counts (a keyword with 45 results is 3 pages of 20 on Openverse).
///
/// Every result points at a real image on the same fixture server (`/img/SEED.jpg|png?w=&h=`, a standard
/// route), with deterministic licence, creator, landing page and title.
public struct FixtureSearchCorpus: Sendable {
    /// Number of results for a keyword.
    public var resultCount: @Sendable (_ keyword: String) -> Int

    /// A corpus whose result counts come from a function.
    /// - Parameter resultCount: results for a keyword.
    public init(resultCount: @escaping @Sendable (_ keyword: String) -> Int) {
        self.resultCount = resultCount
    }

    /// A corpus with fixed result counts.
    /// - Parameters:
    ///   - counts: results per keyword.
    ///   - defaultCount: results for any other keyword.
    public init(counts: [String: Int], default defaultCount: Int = 0) {
        resultCount = { counts[$0] ?? defaultCount }
    }

    /// Result number `position` (0-based) for `keyword`, with URLs on the server at `baseURL`.
    public func item(keyword: String, position: Int, baseURL: String) -> FixtureSearchItem {
        FixtureSearchItem(keyword: keyword, position: position, baseURL: baseURL)
    }
}

/// One search result of a ``FixtureSearchCorpus``.
public struct FixtureSearchItem: Sendable, Hashable {
    /// The licences results cycle through: Openverse code, version, and the Commons short name.
    public static let licenses: [(code: String, version: String, shortName: String)] = [
        ("by", "4.0", "CC BY 4.0"), ("by-sa", "4.0", "CC BY-SA 4.0"), ("cc0", "1.0", "CC0"),
        ("by-nc", "2.0", "CC BY-NC 2.0"),
    ]

    /// The result's position (0-based).
    public var position: Int
    /// The keyword searched.
    public var keyword: String
    /// Seed of the generated image.
    public var seed: UInt64
    /// `jpg` or `png` (every fifth result is a PNG).
    public var fileType: String
    /// Image width the result declares (and the image URL asks for).
    public var width: Int
    /// Image height the result declares (and the image URL asks for).
    public var height: Int
    /// A declared size in bytes (not the real size; sources never trust it).
    public var fileSize: Int
    /// The image URL: `BASE/img/SEED.EXT?w=W&h=H`.
    public var imageURL: String
    /// The page showing the image: `BASE/landing/SLUG/POSITION`.
    public var landingURL: String
    /// Openverse licence code, e.g. `by-sa`.
    public var license: String
    /// Licence version, e.g. `4.0`.
    public var licenseVersion: String
    /// Commons `LicenseShortName`, e.g. `CC BY-SA 4.0`.
    public var licenseShortName: String
    /// The creator's name as plain text: `Photographer N & Friends`.
    public var creator: String
    /// The title: `KEYWORD POSITION`.
    public var title: String

    /// Builds result `position` for `keyword` on the server at `baseURL`.
    public init(keyword: String, position: Int, baseURL: String) {
        self.keyword = keyword
        self.position = position
        let slug = DemoCorpus.slug(keyword)
        seed = FixtureRoute.seed(of: "\(slug)-\(position)") % 1_000_000_007
        fileType = position % 5 == 4 ? "png" : "jpg"
        width = 64 + Int(seed % 97)
        height = 48 + Int((seed / 97) % 89)
        fileSize = width * height / 4 + 1000
        imageURL = "\(baseURL)/img/\(seed).\(fileType)?w=\(width)&h=\(height)"
        landingURL = "\(baseURL)/landing/\(slug)/\(position)"
        let license = Self.licenses[position % Self.licenses.count]
        self.license = license.code
        licenseVersion = license.version
        licenseShortName = license.shortName
        creator = "Photographer \(position % 7) & Friends"
        title = "\(keyword) \(position)"
    }
}
