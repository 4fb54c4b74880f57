import PixExport
import Testing

@Suite struct DuplicateFilterTests {
    private func flip(_ hash: UInt64, bits: Int, using generator: inout SplitMix64) -> UInt64 {
        var result = hash
        var positions = Set<UInt64>()
        while positions.count < bits { positions.insert(generator.next() % 64) }
        for position in positions { result ^= 1 << position }
        return result
    }

    @Test(arguments: [0, 1, 4, 10, 15, 16, 24])
    func indexLookupsAgreeWithABruteForceScan(maxDistance: Int) {
        var generator = SplitMix64(seed: UInt64(maxDistance) + 1)
        var index = NearDuplicateIndex(maxDistance: maxDistance)
        var stored: [UInt64] = []
        for _ in 0..<500 {
            let hash = generator.next()
            index.insert(hash)
            stored.append(hash)
        }
        for round in 0..<1_000 {
            let base = stored[Int(generator.next() % UInt64(stored.count))]
            let query =
                round.isMultiple(of: 2)
                ? flip(base, bits: Int(generator.next() % 30), using: &generator) : generator.next()
            let expected = stored.contains { ($0 ^ query).nonzeroBitCount <= maxDistance }
            let match = index.firstMatch(for: query)
            #expect((match != nil) == expected, "distance \(maxDistance), query \(query)")
            if let match { #expect((stored[match] ^ query).nonzeroBitCount <= maxDistance) }
        }
    }

    @Test func theLargestOfANearDuplicateGroupIsKept() {
        var generator = SplitMix64(seed: 5)
        let base: UInt64 = 0x0123_4567_89ab_cdef
        let candidates = [
            NearDuplicateCandidate(
                id: 1, dhash: flip(base, bits: 2, using: &generator), width: 100, height: 100, bytes: 9_000),
            NearDuplicateCandidate(id: 2, dhash: 0xffff_0000_ffff_0000, width: 50, height: 50, bytes: 100),
            NearDuplicateCandidate(id: 3, dhash: base, width: 800, height: 600, bytes: 90_000),
            NearDuplicateCandidate(
                id: 4, dhash: flip(base, bits: 3, using: &generator), width: 800, height: 600, bytes: 80_000),
        ]
        let selection = NearDuplicateFilter.select(candidates, maxDistance: 4)
        #expect(selection.kept == [2, 3], "kept in input order")
        #expect(selection.dropped == [1: 3, 4: 3])

        let exactOnly = NearDuplicateFilter.select(candidates, maxDistance: 0)
        #expect(exactOnly.kept == [1, 2, 3, 4])
    }

    @Test func aDroppedImageDoesNotShadowOthers() {
        // c is within 4 of b but not of a; b is dropped for a, so c stays.
        let a: UInt64 = 0
        let b: UInt64 = 0b1111
        let c: UInt64 = 0b1111_1111
        let selection = NearDuplicateFilter.select(
            [
                NearDuplicateCandidate(id: "a", dhash: a, width: 30, height: 30, bytes: 1),
                NearDuplicateCandidate(id: "b", dhash: b, width: 20, height: 20, bytes: 1),
                NearDuplicateCandidate(id: "c", dhash: c, width: 10, height: 10, bytes: 1),
            ], maxDistance: 4)
        #expect(selection.kept == ["a", "c"])
        #expect(selection.dropped == ["b": "a"])
    }

    @Test func streamingInsertKeepsTheFirstOfEachGroup() {
        var index = NearDuplicateIndex(maxDistance: 3)
        let results = [index.insertIfNovel(0b0), index.insertIfNovel(0b111), index.insertIfNovel(0b1111)]
        #expect(results == [true, false, true])
        #expect(index.count == 2)
    }

    @Test func exactDuplicatesAreRecognisedInEitherCase() {
        var filter = ExactDuplicateFilter()
        let digest = String(repeating: "ab", count: 32)
        let inputs = [digest, digest.uppercased(), String(repeating: "ab", count: 31) + "ac", "not-hex", "NOT-HEX"]
        let firstSeen = inputs.map { filter.insert(sha256: $0) }
        #expect(firstSeen == [true, false, true, true, false])
        #expect(filter.count == 3)
    }
}
