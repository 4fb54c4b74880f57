/// The release of PixCrawler this build belongs to.
public enum PixCrawlVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"

    /// Default contact URL sent in the User-Agent; operators override it with `PIXCRAWL_CONTACT_URL`.
    public static let defaultContactURL = "https://github.com/pixcrawler/pixcrawler"

    /// The User-Agent PixCrawler sends everywhere: `PixCrawler/VERSION (+CONTACT)`.
    /// - Parameter contact: a URL or e-mail address where site operators can reach the crawl's owner.
    public static func userAgent(contact: String = defaultContactURL) -> String {
        "PixCrawler/\(current) (+\(contact))"
    }
}
