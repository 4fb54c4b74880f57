import PixFetch
import Testing

@Suite struct RobotsTxtTests {
    static let text = """
        # comment line
        User-agent: *
        Disallow: /

        User-agent: OtherBot
        User-agent: PixCrawler/2.0
        Disallow: /private/
        Allow: /private/*.png$
        Disallow: /*?nocrawl
        Disallow: /fish*.php
        Allow: /page
        Disallow: /*.gif$
        Disallow:

        Sitemap: https://example.com/sitemap.xml
        Crawl-delay: 10
        """

    let robots = RobotsTxt(parsing: Self.text)

    @Test func ownGroupIsUsedInsteadOfStar() {
        #expect(robots.isAllowed("/img/1.jpg", for: "PixCrawler"))
        #expect(!robots.isAllowed("/img/1.jpg", for: "SomeoneElse"))
        #expect(robots.isAllowed("/img/1.jpg", for: "pixcrawler"))
    }

    @Test(arguments: [
        ("/private/a.jpg", false),
        ("/private/a.png", true),
        ("/private/a.png?x=1", false),
        ("/private", true),
        ("/img/1.jpg?nocrawl", false),
        ("/img/1.jpg?crawl", true),
        ("/fish.php", false),
        ("/fishheads/catfish.php?id=1", false),
        ("/Fish.PHP", true),
        ("/a.gif", false),
        ("/a.gif?x", true),
        ("/robots.txt", true),
    ])
    func pathsFollowLongestMatch(_ path: String, _ allowed: Bool) {
        #expect(robots.isAllowed(path, for: "PixCrawler") == allowed)
    }

    @Test func equalLengthAllowWinsTie() {
        let tie = RobotsTxt(parsing: "User-agent: *\nDisallow: /page\nAllow: /page\n")
        #expect(tie.isAllowed("/page", for: "PixCrawler"))
    }

    @Test func percentEncodingIsComparedNormalised() {
        let encoded = RobotsTxt(parsing: "User-agent: *\nDisallow: /%7Ejoe/\nDisallow: /caf%c3%a9\n")
        #expect(!encoded.isAllowed("/~joe/index.html", for: "PixCrawler"))
        #expect(!encoded.isAllowed("/caf%C3%A9/menu", for: "PixCrawler"))
        #expect(encoded.isAllowed("/cafe", for: "PixCrawler"))
    }

    @Test func missingAndEmptyFilesAllowEverything() {
        #expect(RobotsTxt(parsing: "").isAllowed("/anything", for: "PixCrawler"))
        #expect(RobotsTxt.allowAll.isAllowed("/anything", for: "PixCrawler"))
        #expect(!RobotsTxt.disallowAll.isAllowed("/anything", for: "PixCrawler"))
        #expect(RobotsTxt.disallowAll.isAllowed("/robots.txt", for: "PixCrawler"))
    }

    @Test func rulesBeforeAnyUserAgentAreIgnored() {
        let stray = RobotsTxt(parsing: "Disallow: /\nUser-agent: *\nDisallow: /x\n")
        #expect(stray.isAllowed("/y", for: "PixCrawler"))
        #expect(!stray.isAllowed("/x", for: "PixCrawler"))
    }

    @Test func groupsForTheSameAgentAreMerged() {
        let split = RobotsTxt(parsing: "User-agent: PixCrawler\nDisallow: /a\n\nUser-agent: PixCrawler\nDisallow: /b\n")
        #expect(!split.isAllowed("/a", for: "PixCrawler"))
        #expect(!split.isAllowed("/b", for: "PixCrawler"))
        #expect(split.isAllowed("/c", for: "PixCrawler"))
    }
}

@Suite struct RobotsTagTests {
    @Test(
        arguments: [
            (["noai"], "noai"),
            (["noimageai"], "noimageai"),
            (["none"], "none"),
            (["noindex, nofollow"], "noindex"),
            (["NoAI"], "noai"),
            (["PixCrawler: noai"], "noai"),
            (["pixcrawler: noimageai, nofollow"], "noimageai"),
            (["otherbot: noindex", "PixCrawler: none"], "none"),
            (["unavailable_after: 25 Jun 2010 15:00:00 PST, noai"], "noai"),
        ] as [([String], String)])
    func optOutsApply(_ values: [String], _ directive: String) {
        #expect(RobotsTag.optOutDirective(values: values, productToken: "PixCrawler") == directive)
    }

    @Test(
        arguments: [
            [],
            ["nofollow"],
            ["otherbot: noai"],
            ["otherbot: noindex, noai"],
            ["max-image-preview: large"],
            ["noarchive, nosnippet"],
        ] as [[String]])
    func otherValuesDoNotOptOut(_ values: [String]) {
        #expect(RobotsTag.optOutDirective(values: values, productToken: "PixCrawler") == nil)
    }
}
