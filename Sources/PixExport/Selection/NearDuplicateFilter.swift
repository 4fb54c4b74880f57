/// An image considered for near-duplicate removal.
public struct NearDuplicateCandidate<ID: Hashable & Sendable>: Sendable, Hashable {
    /// The image's identity (a database id).
    public var id: ID
    /// Its 64-bit difference hash.
    public var dhash: UInt64
    /// Width × height: the larger image of a near-duplicate group is kept.
    public var pixelCount: Int
    /// File size, which breaks ties between equal pixel counts.
    public var byteCount: Int

    /// Creates a candidate.
    /// - Parameters:
    ///   - id: The image's identity.
    ///   - dhash: Its 64-bit difference hash.
    ///   - width: Width in pixels.
    ///   - height: Height in pixels.
    ///   - bytes: File size in bytes.
    public init(id: ID, dhash: UInt64, width: Int, height: Int, bytes: Int) {
        self.id = id
        self.dhash = dhash
        self.pixelCount = width * height
        self.byteCount = bytes
    }
}

/// The outcome of ``NearDuplicateFilter/select(_:maxDistance:)``.
public struct NearDuplicateSelection<ID: Hashable & Sendable>: Sendable {
    /// Images to export, in the order they were given.
    public var kept: [ID]
    /// Each dropped image, mapped to the kept image it nearly duplicates.
    public var dropped: [ID: ID]
}

/// Drops images whose dHash is within a Hamming distance of an image already kept, keeping the largest.
public enum NearDuplicateFilter {
    /// Selects images, largest first (pixels, then bytes, then input order): an image is kept unless its
    /// dHash is within `maxDistance` of one kept before it. Uses ``NearDuplicateIndex``, so it is far from
    /// quadratic for small distances.
    ///
    /// To stream instead of collecting candidates, read images ordered by size, largest first, and call
    /// ``NearDuplicateIndex/insertIfNovel(_:)`` for each.
    /// - Parameters:
    ///   - candidates: The images and their hashes.
    ///   - maxDistance: The largest Hamming distance that counts as a near duplicate (0…64).
    public static func select<ID>(
        _ candidates: [NearDuplicateCandidate<ID>], maxDistance: Int
    ) -> NearDuplicateSelection<ID> {
        let order = candidates.indices.sorted { left, right in
            let a = candidates[left]
            let b = candidates[right]
            if a.pixelCount != b.pixelCount { return a.pixelCount > b.pixelCount }
            if a.byteCount != b.byteCount { return a.byteCount > b.byteCount }
            return left < right
        }
        var index = NearDuplicateIndex(maxDistance: maxDistance)
        var keptPositions: [Int] = []  // index position → candidate index
        var keep = [Bool](repeating: false, count: candidates.count)
        var dropped: [ID: ID] = [:]
        for candidateIndex in order {
            let candidate = candidates[candidateIndex]
            if let match = index.firstMatch(for: candidate.dhash) {
                dropped[candidate.id] = candidates[keptPositions[match]].id
            } else {
                index.insert(candidate.dhash)
                keptPositions.append(candidateIndex)
                keep[candidateIndex] = true
            }
        }
        let kept = candidates.indices.filter { keep[$0] }.map { candidates[$0].id }
        return NearDuplicateSelection(kept: kept, dropped: dropped)
    }
}
