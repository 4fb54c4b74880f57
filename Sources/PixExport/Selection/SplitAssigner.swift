import Crypto

/// Assigns each image to a split, deterministically: the same seed and image always give the same split,
/// whatever order images arrive in and whichever other images are exported.
///
/// The split of a key is taken from `u = (first 8 bytes of SHA-256("pixcrawl.split.v1" ‖ seed as 8 bytes
/// little-endian ‖ 0x00 ‖ key as UTF-8), read big-endian) >> 11 / 2^53`, a uniform number in [0, 1):
/// `train` when `u < ratios.train`, `val` when `u < ratios.train + ratios.val`, `test` otherwise. Other tools
/// can reproduce it from this description.
public struct SplitAssigner: Sendable, Hashable {
    /// The shares of the splits.
    public let ratios: SplitRatios
    /// The seed that picks one of many equally good assignments.
    public let seed: UInt64

    /// Creates an assigner.
    /// - Parameters:
    ///   - ratios: The share of each split.
    ///   - seed: Any number; exports with the same seed and ratios agree.
    public init(ratios: SplitRatios, seed: UInt64) {
        self.ratios = ratios
        self.seed = seed
    }

    /// The split of an image identified by its database id (hashed as its decimal text).
    /// - Parameter id: The image's id.
    public func split(forImageID id: Int64) -> DatasetSplit {
        split(forKey: String(id))
    }

    /// The split of an image identified by any stable key (an id, a SHA-256).
    /// - Parameter key: The image's stable identity.
    public func split(forKey key: String) -> DatasetSplit {
        let u = unitValue(forKey: key)
        if u < ratios.train || (ratios.val == 0 && ratios.test == 0) { return .train }
        if u < ratios.train + ratios.val || ratios.test == 0 { return .val }
        return .test
    }

    /// The uniform number in [0, 1) that decides `key`'s split.
    /// - Parameter key: The image's stable identity.
    public func unitValue(forKey key: String) -> Double {
        var hasher = SHA256()
        hasher.update(data: Array("pixcrawl.split.v1".utf8))
        withUnsafeBytes(of: seed.littleEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: [0])
        hasher.update(data: Array(key.utf8))
        let digest = hasher.finalize()
        let prefix = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(prefix >> 11) * 0x1p-53
    }
}
