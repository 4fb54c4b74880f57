import Foundation
import PixExport
import Testing

@Suite struct AttributionBuilderTests {
    @Test func countsImagesPerLicenseAndListsCreators() {
        var builder = AttributionBuilder()
        for _ in 0..<3 { builder.add(license: "by-sa 4.0", creator: "Zoë") }
        builder.add(license: "by-sa 4.0", creator: "alice")
        builder.add(license: "cc0", creator: nil)
        builder.add(license: nil, creator: "  ")
        builder.add(license: "Some Custom License", creator: "[evil](https://x) <script>")
        let markdown = builder.markdown()

        #expect(builder.imageCount == 7)
        #expect(markdown.contains("holds 7 images"))
        #expect(markdown.contains("| [CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/) | 4 |"))
        #expect(markdown.contains("| [CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/) | 1 |"))
        #expect(markdown.contains("| unknown license | 1 |"))
        #expect(markdown.contains("| Some Custom License | 1 |"))
        #expect(markdown.contains("### CC BY-SA 4.0 (4 images)\n\n- alice\n- Zoë (3 images)\n"))
        #expect(markdown.contains("- unknown creator\n"))
        #expect(
            markdown.contains("- \\[evil\\]\\(https://x\\) \\<script\\>"), "untrusted names cannot inject links or HTML"
        )
        let licenses = markdown.components(separatedBy: "## Creators by license")[0]
        let order = ["CC BY-SA 4.0", "CC0 1.0", "Some Custom License", "unknown license"].map {
            licenses.range(of: $0)!.lowerBound
        }
        #expect(order == order.sorted(), "most used license first, ties by name")
    }
}
