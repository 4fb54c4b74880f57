import Foundation
import PixExport
import Testing

@Suite struct SplitAssignerTests {
    private let ratios = try! SplitRatios(parsing: "train=0.8,val=0.1,test=0.1")

    @Test func theSameSeedGivesTheSameSplitWhateverTheOrder() {
        let ids = Array(Int64(1)...5_000)
        let first = SplitAssigner(ratios: ratios, seed: 42)
        let forward = ids.map { first.split(forImageID: $0) }
        let second = SplitAssigner(ratios: ratios, seed: 42)
        var backward: [Int64: DatasetSplit] = [:]
        for id in ids.reversed() { backward[id] = second.split(forImageID: id) }
        #expect(forward == ids.map { backward[$0]! })
        #expect(first.split(forImageID: 77) == first.split(forKey: "77"))
    }

    @Test func anotherSeedGivesAnotherAssignment() {
        let ids = Array(Int64(1)...2_000)
        let a = ids.map { SplitAssigner(ratios: ratios, seed: 1).split(forImageID: $0) }
        let b = ids.map { SplitAssigner(ratios: ratios, seed: 2).split(forImageID: $0) }
        #expect(zip(a, b).filter { $0 != $1 }.count > 200)
    }

    @Test func sharesFollowTheRatios() {
        let assigner = SplitAssigner(ratios: ratios, seed: 9)
        var counts: [DatasetSplit: Int] = [:]
        for id in Int64(0)..<20_000 { counts[assigner.split(forImageID: id), default: 0] += 1 }
        #expect(abs(Double(counts[.train]!) / 20_000 - 0.8) < 0.02)
        #expect(abs(Double(counts[.val]!) / 20_000 - 0.1) < 0.02)
        #expect(abs(Double(counts[.test]!) / 20_000 - 0.1) < 0.02)
    }

    @Test func aSplitWithNoShareNeverReceivesImages() throws {
        let assigner = SplitAssigner(ratios: try SplitRatios(train: 0.5, val: 0.5), seed: 3)
        let splits = Set((Int64(0)..<5_000).map { assigner.split(forImageID: $0) })
        #expect(splits == [.train, .val])
        let trainOnly = SplitAssigner(ratios: .trainOnly, seed: 3)
        #expect(Set((Int64(0)..<1_000).map { trainOnly.split(forImageID: $0) }) == [.train])
    }

    @Test func theDocumentedHashIsReproducibleInPython() throws {
        let assigner = SplitAssigner(ratios: ratios, seed: 123_456_789_012)
        let keys = (0..<300).map { String($0 * 7919) } + ["sha:abc", "ключ", "🦊"]
        let python = try ExternalTools.python(
            """
            import hashlib, json, struct, sys
            seed = int(sys.argv[1])
            out = []
            for key in sys.argv[2:]:
                digest = hashlib.sha256(b"pixcrawl.split.v1" + struct.pack("<Q", seed) + b"\\0" + key.encode()).digest()
                u = (int.from_bytes(digest[:8], "big") >> 11) / 2**53
                out.append("train" if u < 0.8 else "val" if u < 0.8 + 0.1 else "test")
            print(json.dumps(out))
            """, ["123456789012"] + keys, as: [String].self)
        #expect(keys.map { assigner.split(forKey: $0).rawValue } == python)
    }

    @Test func ratiosParseAndNormalise() throws {
        let percent = try SplitRatios(parsing: "train=80, validation=20")
        #expect(percent.train == 0.8)
        #expect(percent.val == 0.2)
        #expect(percent.test == 0)
        for bad in ["train=-1", "foo=1", "train=0", "train=0.5,train=0.5", "train", "train=abc", "train=inf"] {
            let error = try #require(throws: ExportError.self, "\(bad)") { try SplitRatios(parsing: bad) }
            #expect(error.code == .invalidOption)
        }
    }
}
