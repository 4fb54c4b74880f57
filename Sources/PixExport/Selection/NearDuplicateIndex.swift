/// A set of 64-bit perceptual hashes (dHash) answering "is any stored hash within Hamming distance N?".
///
/// For N < 16 the hashes are indexed by N + 1 disjoint bit bands: two hashes within distance N agree
/// exactly on at least one band (pigeonhole), so a query only compares against hashes sharing a band value,
/// far fewer than all of them for real, well-spread hashes. For N ≥ 16 the bands would be too narrow to
/// help and a query scans every stored hash (still a tight popcount loop).
public struct NearDuplicateIndex: Sendable {
    /// The largest Hamming distance that counts as a near duplicate, 0…64.
    public let maxDistance: Int
    /// The stored hashes, in insertion order; a match is reported as a position in this array.
    public private(set) var hashes: [UInt64] = []

    private let bands: [(shift: UInt64, mask: UInt64)]
    private var tables: [[UInt64: [Int]]]

    /// Creates an empty index.
    /// - Parameter maxDistance: Hamming distance up to which two hashes are near duplicates;
    ///   clamped to 0…64 (0 means identical hashes only).
    public init(maxDistance: Int) {
        let distance = min(max(maxDistance, 0), 64)
        self.maxDistance = distance
        if distance < 16 {
            let count = distance + 1
            var bands: [(UInt64, UInt64)] = []
            var shift = 0
            for band in 0..<count {
                let width = 64 / count + (band < 64 % count ? 1 : 0)
                let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
                bands.append((UInt64(shift), mask))
                shift += width
            }
            self.bands = bands
        } else {
            self.bands = []
        }
        tables = Array(repeating: [:], count: bands.count)
    }

    /// Number of stored hashes.
    public var count: Int { hashes.count }

    /// The position of a stored hash within ``maxDistance`` of `hash`, or `nil` when there is none.
    /// - Parameter hash: The hash to look up.
    public func firstMatch(for hash: UInt64) -> Int? {
        if bands.isEmpty {
            return hashes.firstIndex { ($0 ^ hash).nonzeroBitCount <= maxDistance }
        }
        for (band, (shift, mask)) in bands.enumerated() {
            guard let bucket = tables[band][(hash >> shift) & mask] else { continue }
            for position in bucket where (hashes[position] ^ hash).nonzeroBitCount <= maxDistance {
                return position
            }
        }
        return nil
    }

    /// Stores `hash` unconditionally.
    /// - Parameter hash: The hash to store.
    /// - Returns: Its position in ``hashes``.
    @discardableResult
    public mutating func insert(_ hash: UInt64) -> Int {
        let position = hashes.count
        hashes.append(hash)
        for (band, (shift, mask)) in bands.enumerated() {
            tables[band][(hash >> shift) & mask, default: []].append(position)
        }
        return position
    }

    /// Stores `hash` if no stored hash is within ``maxDistance`` of it.
    /// - Parameter hash: The hash of an image about to be exported.
    /// - Returns: `true` when it was stored (keep the image), `false` for a near duplicate (drop it).
    public mutating func insertIfNovel(_ hash: UInt64) -> Bool {
        guard firstMatch(for: hash) == nil else { return false }
        insert(hash)
        return true
    }
}
