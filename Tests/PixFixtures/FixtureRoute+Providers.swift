import PixDemo

/// Routes of the image providers' stand-ins, to add to a ``FixtureServer`` next to ``FixtureRoute/standard``.
///
/// | path | answer |
/// |---|---|
/// | `/v1/images/?q=&page=&page_size=` | Openverse search (``OpenverseFixture``) |
/// | `POST /v1/auth_tokens/token/` | Openverse client-credentials token (``OpenverseFixture``) |
/// | `/w/api.php?action=query&generator=search…` | MediaWiki search with image information (``CommonsFixture``) |
/// | `/landing/SLUG/POSITION` | the landing page of a search result (HTML) |
/// | `/demo/SLUG/POSITION.jpg\|png\|html` | the offline demo library (``DemoCorpus``) |
extension FixtureRoute {
    /// The Openverse routes of `fixture`, plus landing pages.
    public static func openverse(_ fixture: OpenverseFixture) -> [FixtureRoute] {
        fixture.routes + [landingPages]
    }

    /// The MediaWiki API route of `fixture`, plus landing pages.
    public static func commons(_ fixture: CommonsFixture) -> [FixtureRoute] {
        fixture.routes + [landingPages]
    }

    /// The offline demo's routes (its own allow-all robots.txt included).
    public static var demo: [FixtureRoute] {
        [
            FixtureRoute(.exact("/robots.txt")) { _ in response(DemoCorpus.robots) },
            FixtureRoute(.prefix("/demo/"), method: "GET") { response(DemoCorpus.answer(path: $0.path)) },
        ]
    }

    private static func response(_ answer: DemoCorpus.Answer) -> FixtureResponse {
        guard let contentType = answer.contentType else { return .status(answer.status) }
        return .bytes(answer.body, contentType: contentType, status: answer.status)
    }

    /// `/landing/SLUG/POSITION`: a small HTML page, the "foreign landing URL" of fixture search results.
    public static let landingPages = FixtureRoute(.prefix("/landing/"), method: "GET") { request in
        .text(
            "<!DOCTYPE html>\n<html><head><title>\(request.path)</title></head><body><p>Landing page of "
                + "\(request.path)</p></body></html>\n", contentType: "text/html; charset=utf-8")
    }
}
