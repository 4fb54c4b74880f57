import Foundation

/// The release of PixCrawler this build belongs to.
public enum PixCrawlVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"

    /// The project's page, named in every User-Agent.
    public static let defaultContactURL = "https://github.com/pixcrawler/pixcrawler"

    /// The User-Agent PixCrawler sends everywhere: `PixCrawler/VERSION (+PROJECT_URL)`, or with the operator's contact
    /// `PixCrawler/VERSION (+PROJECT_URL; CONTACT)` as Wikimedia's User-Agent policy asks.
    /// - Parameter contact: a URL or e-mail address where site operators can reach the crawl's owner; `nil` or the
    ///   project's page names the project only.
    public static func userAgent(contact: String? = nil) -> String {
        guard let contact, !contact.isEmpty, contact != defaultContactURL else {
            return "PixCrawler/\(current) (+\(defaultContactURL))"
        }
        return "PixCrawler/\(current) (+\(defaultContactURL); \(contact))"
    }

    /// The operator's contact: `PIXCRAWL_CONTACT` (a URL or e-mail address), or the older `PIXCRAWL_CONTACT_URL`;
    /// `nil` when neither is set.
    /// - Parameter environment: the process environment (or a test's).
    public static func operatorContact(_ environment: [String: String]) -> String? {
        for name in ["PIXCRAWL_CONTACT", "PIXCRAWL_CONTACT_URL"] {
            if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        }
        return nil
    }
}
