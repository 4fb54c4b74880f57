import Crypto
import Foundation
import PixExport
import Testing

@Suite("Export options, link lifetimes and tokens")
struct ExportOptionsTests {
    @Test("link lifetimes parse d, h, m and s, and refuse zero, other units and more than a year")
    func lifetimes() throws {
        #expect(try LinkLifetime(parsing: "7d").seconds == 604_800)
        #expect(try LinkLifetime(parsing: "12h").seconds == 43_200)
        #expect(try LinkLifetime(parsing: "30m").seconds == 1_800)
        #expect(try LinkLifetime(parsing: "45s").seconds == 45)
        #expect(try LinkLifetime(parsing: "36h").description == "36h")
        #expect(LinkLifetime.default.seconds == 7 * 86_400)
        for bad in ["", "d", "0d", "-1d", "7w", "7 d", "1.5h", "366d", "99999999999999999d"] {
            #expect(throws: ExportJobError.self, "\(bad)") { try LinkLifetime(parsing: bad) }
        }
    }

    @Test("options survive their JSON form with snake_case keys, and missing keys take defaults")
    func optionsJSON() throws {
        let options = ExportOptions(
            layout: .imagefolder, nearDuplicateDistance: 6, split: "train=0.8,val=0.2", seed: UInt64.max,
            minWidth: 64, minHeight: 48, linkLifetimeSeconds: 3600, shardSize: 500)
        let text = try options.jsonText()
        #expect(text.contains("\"dedup_near\":6"))
        #expect(text.contains("\"min_width\":64"))
        #expect(text.contains("\"shard_size\":500"))
        #expect(try ExportOptions(json: text) == options)
        #expect(try ExportOptions(json: "{}") == ExportOptions())
        #expect(throws: ExportJobError.self) { try ExportOptions(json: #"{"layout":"spiral"}"#) }
    }

    @Test("validation names the option to fix")
    func validation() throws {
        try ExportOptions().validate(for: .zip)
        let cases: [(ExportOptions, ExportFormat, String)] = [
            (ExportOptions(nearDuplicateDistance: 65), .zip, "--dedup-near"),
            (ExportOptions(minWidth: -1), .tar, "--min-width"),
            (ExportOptions(linkLifetimeSeconds: 0), .tar, "--expires"),
            (ExportOptions(shardSize: 0), .webdataset, "--shard-size"),
            (ExportOptions(layout: .imagefolder), .webdataset, "--layout"),
            (ExportOptions(split: "train=0.8,bogus=0.2"), .zip, "split"),
        ]
        for (options, format, mention) in cases {
            let error = #expect(throws: ExportJobError.self) { try options.validate(for: format) }
            #expect(error?.code == .invalidOptions)
            #expect(error?.description.contains(mention) == true, "\(error?.description ?? "") names \(mention)")
        }
    }

    @Test("tokens are 256 random bits in base64url; the stored hash is SHA-256 of the text; logs see a redacted form")
    func tokens() throws {
        let tokens = (0..<64).map { _ in DownloadToken.generate() }
        #expect(Set(tokens.map(\.value)).count == tokens.count)
        for token in tokens {
            #expect(token.value.hasPrefix("pxd_"))
            let body = token.value.dropFirst(4)
            #expect(body.count == 43, "32 bytes in unpadded base64url")
            #expect(body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            let expected = SHA256.hash(data: Array(token.value.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(token.hash == expected)
            #expect(!token.description.contains(token.value))
        }
        #expect(DownloadToken("  pxd_abc \n").value == "pxd_abc", "whitespace around a pasted token is ignored")
    }
}
