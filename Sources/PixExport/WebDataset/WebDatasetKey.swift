/// Sample keys for WebDataset shards.
///
/// Loaders group a shard's files into samples by the part of the name before the first dot, so keys must
/// contain no dot and be unique. Keys made here are a zero-padded export position and a short id
/// (`000000042_1234`): unique, free of dots and sorted in export order.
public enum WebDatasetKey {
    /// Digits of the zero-padded position; keys stay sorted for positions below 10^9.
    public static let positionDigits = 9

    /// The key of the sample at `position` in the export.
    /// - Parameters:
    ///   - position: The sample's 0-based position in the export.
    ///   - id: A short identity to make keys readable (an image id); only ASCII letters and digits are kept,
    ///     at most 16 of them.
    public static func make(position: Int, id: String) -> String {
        let digits = String(max(0, position))
        let padded = String(repeating: "0", count: max(0, positionDigits - digits.count)) + digits
        let safeID = String(
            id.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }.prefix(
                16
            ).map(Character.init))
        return safeID.isEmpty ? padded : padded + "_" + safeID
    }

    /// The key of the sample at `position`, for a database image id.
    /// - Parameters:
    ///   - position: The sample's 0-based position in the export.
    ///   - imageID: The image's id.
    public static func make(position: Int, imageID: Int64) -> String {
        make(position: position, id: String(imageID))
    }

    /// Checks that `key` can name a sample: non-empty, at most 128 bytes, only ASCII letters, digits, `_`
    /// and `-`.
    /// - Parameter key: A proposed key.
    public static func validate(_ key: String) throws {
        guard !key.isEmpty else { throw ExportError.invalidSampleKey(key, "it is empty") }
        guard key.utf8.count <= 128 else { throw ExportError.invalidSampleKey(key, "it is longer than 128 bytes") }
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            case UInt8(ascii: "."):
                throw ExportError.invalidSampleKey(key, "it contains a dot, which loaders take as the end of the key")
            default:
                throw ExportError.invalidSampleKey(key, "it may contain only ASCII letters, digits, '_' and '-'")
            }
        }
    }
}
