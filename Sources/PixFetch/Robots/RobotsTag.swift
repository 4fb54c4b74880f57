/// Reads `X-Robots-Tag` response headers for the opt-outs an image crawler honours.
///
/// `noai`, `noimageai`, `none` and `noindex` opt out. A directive applies to every crawler, or only to the one
/// named before it (`PixCrawler: noai`; the name stays in force for the directives that follow it in the header).
public enum RobotsTag {
    /// Directives that reject an image.
    public static let optOutDirectives: Set<String> = ["noai", "noimageai", "none", "noindex"]

    /// Directives that take a `name: value` form themselves, so their name is not a crawler name.
    private static let valuedDirectives: Set<String> = [
        "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview",
    ]

    /// The first opt-out directive that applies to the crawler, or `nil` when the response may be used.
    /// - Parameters:
    ///   - headers: the response headers.
    ///   - productToken: the crawler's product token, e.g. `PixCrawler`.
    public static func optOutDirective(in headers: HTTPHeaders, productToken: String) -> String? {
        optOutDirective(values: headers.values(for: "x-robots-tag"), productToken: productToken)
    }

    /// The first opt-out directive among raw `X-Robots-Tag` values that applies to the crawler.
    public static func optOutDirective(values: [String], productToken: String) -> String? {
        let token = productToken.lowercased()
        for value in values {
            var scope: String?
            for rawPart in value.split(separator: ",") {
                var part = rawPart.trimmingWhitespace()
                if let colon = part.firstIndex(of: ":") {
                    let head = part[..<colon].trimmingWhitespace().lowercased()
                    if !head.isEmpty, !head.contains(" "), !valuedDirectives.contains(head) {
                        scope = head
                        part = part[part.index(after: colon)...].trimmingWhitespace()
                    }
                }
                let directive = part.lowercased()
                if scope == nil || scope == token, optOutDirectives.contains(directive) {
                    return directive
                }
            }
        }
        return nil
    }
}
