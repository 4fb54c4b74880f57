import Foundation
import PixExport
import Testing

@Suite struct ImageFolderNamingTests {
    @Test(arguments: [
        ("red fox", "red fox"),
        ("a/b", "a_b"),
        ("back\\slash:colon*?\"<>|", "back_slash_colon______"),
        (".", "_"),
        ("..", "__"),
        (".hidden", "_hidden"),
        ("../etc/passwd", "___etc_passwd"),
        ("line\nbreak\ttab", "line break tab"),
        ("  spaced   out  ", "spaced out"),
        ("trailing dots...", "trailing dots"),
        ("con", "_con"),
        ("COM1.txt", "_COM1.txt"),
        ("\u{202E}evil\u{0000}", "evil"),
        ("", "_"),
        ("   ", "_"),
        ("e\u{301}cole", "\u{e9}cole"),
        ("🦊 fox", "🦊 fox"),
        ("猫", "猫"),
    ])
    func keywordsBecomeSafeFolderNames(keyword: String, expected: String) {
        let name = ImageFolderNaming.sanitize(keyword)
        #expect(name == expected)
        #expect(Array(name.unicodeScalars) == Array(expected.unicodeScalars), "NFC, scalar for scalar")
    }

    @Test func sanitizedNamesAreSafeCappedAndStable() {
        var generator = SplitMix64(seed: 7)
        let alphabet: [Character] = [
            "a", "Z", "0", " ", ".", "/", "\\", ":", "\n", "\t", "\u{0}", "\u{7f}", "\u{202E}", "é", "e\u{301}",
            "猫", "🦊", "👨‍👩‍👧", "_", "~", "-",
        ]
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 150)
            let keyword = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            let name = ImageFolderNaming.sanitize(keyword, maxBytes: 40)
            #expect(!name.isEmpty)
            #expect(name.utf8.count <= 40)
            #expect(name != "." && name != ".." && !name.hasPrefix("."))
            #expect(!name.unicodeScalars.contains { "/\\:*?\"<>|".unicodeScalars.contains($0) })
            #expect(!name.unicodeScalars.contains { $0.properties.generalCategory == .control })
            #expect(!name.hasSuffix(" ") && !name.hasSuffix("."))
            #expect(name.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(name.unicodeScalars))
            #expect(ImageFolderNaming.sanitize(name, maxBytes: 40) == name, "sanitizing twice changes nothing")
        }
    }

    @Test func longNamesAreCutBetweenCharacters() {
        let name = ImageFolderNaming.sanitize(String(repeating: "猫", count: 300))
        #expect(name == String(repeating: "猫", count: 33), "33 × 3 bytes fit in 100")
        let family = ImageFolderNaming.sanitize(String(repeating: "👨‍👩‍👧", count: 20), maxBytes: 40)
        #expect(family == "👨‍👩‍👧👨‍👩‍👧", "two 18-byte graphemes fit in 40 bytes; the third is not split")
    }

    @Test func collisionsGetSuffixesThatDependOnlyOnTheKeywordSet() throws {
        let keywords = ["a/b", "a_b", "a:b", "Cat", "cat", "a_b~2", "dog"]
        let naming = ImageFolderNaming(keywords: keywords)
        #expect(
            naming.folders == [
                "a_b": "a_b", "a/b": "a_b~3", "a:b": "a_b~4", "a_b~2": "a_b~2", "Cat": "Cat", "cat": "cat~2",
                "dog": "dog",
            ])
        var generator = SplitMix64(seed: 1)
        for _ in 0..<20 {
            var shuffled = keywords + keywords
            shuffled.shuffle(using: &generator)
            #expect(ImageFolderNaming(keywords: shuffled).folders == naming.folders)
        }
        let folded = naming.folders.values.map { $0.lowercased() }
        #expect(Set(folded).count == folded.count, "unique even on a case-insensitive file system")
    }

    @Test func suffixedNamesStayWithinTheByteLimit() {
        let long = String(repeating: "x", count: 50)
        let naming = ImageFolderNaming(keywords: [long + "/1", long + "/2", long + "_1"], maxBytes: 20)
        #expect(naming.folders.values.allSatisfy { $0.utf8.count <= 20 })
        #expect(Set(naming.folders.values).count == 3)
    }

    @Test func pathsPutTheSplitFirstAndRefuseUnknownKeywords() throws {
        let naming = ImageFolderNaming(keywords: ["red/fox", "owl"])
        #expect(try naming.path(for: "000001_7.jpg", keyword: "red/fox", split: .train) == "train/red_fox/000001_7.jpg")
        #expect(try naming.path(for: "x.png", keyword: "owl", split: nil) == "owl/x.png")
        let error = try #require(throws: ExportError.self) { try naming.folderName(for: "bear") }
        #expect(error.code == .unknownKeyword)
    }

    @Test func canonicallyEquivalentKeywordsShareAFolder() throws {
        let naming = ImageFolderNaming(keywords: ["\u{e9}cole", "e\u{301}cole"])
        #expect(naming.folders.count == 1)
        #expect(try naming.folderName(for: "e\u{301}cole") == naming.folderName(for: "\u{e9}cole"))
    }
}

/// A small deterministic generator for tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
