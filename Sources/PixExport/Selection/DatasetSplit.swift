import Foundation

/// A dataset split, named as torchvision and most loaders expect.
public enum DatasetSplit: String, Sendable, Codable, CaseIterable, Hashable {
    /// Training images.
    case train
    /// Validation images.
    case val
    /// Held-out test images.
    case test
}

/// The share of images each split receives, normalised to sum to 1.
public struct SplitRatios: Sendable, Hashable, CustomStringConvertible {
    /// Share of ``DatasetSplit/train``.
    public let train: Double
    /// Share of ``DatasetSplit/val``.
    public let val: Double
    /// Share of ``DatasetSplit/test``.
    public let test: Double

    /// Everything in ``DatasetSplit/train``.
    public static let trainOnly = SplitRatios(uncheckedTrain: 1, val: 0, test: 0)

    /// Creates ratios from weights; they are divided by their sum, so `80/10/10` equals `0.8/0.1/0.1`.
    /// - Parameters:
    ///   - train: Weight of the training split, ≥ 0.
    ///   - val: Weight of the validation split, ≥ 0.
    ///   - test: Weight of the test split, ≥ 0.
    /// - Throws: ``ExportError/Code/invalidOption`` when a weight is negative or not finite, or all are zero.
    public init(train: Double, val: Double = 0, test: Double = 0) throws {
        let weights = [train, val, test]
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ExportError.invalidOption(
                "split weights must be finite and ≥ 0, got train=\(train), val=\(val), test=\(test)")
        }
        let sum = train + val + test
        guard sum > 0 else {
            throw ExportError.invalidOption("split weights are all zero; give train a weight above 0")
        }
        self.init(uncheckedTrain: train / sum, val: val / sum, test: test / sum)
    }

    /// Parses the command-line form `train=0.8,val=0.1,test=0.1` (`validation` is accepted for `val`;
    /// missing splits get 0).
    /// - Parameter text: Comma-separated `name=weight` pairs.
    public init(parsing text: String) throws {
        var weights: [DatasetSplit: Double] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let name = parts.first.map { $0 == "validation" ? "val" : $0 } ?? ""
            guard parts.count == 2, let split = DatasetSplit(rawValue: name), let weight = Double(parts[1]) else {
                throw ExportError.invalidOption(
                    "cannot read split \"\(pair)\"; write it as train=0.8,val=0.1,test=0.1")
            }
            guard weights[split] == nil else {
                throw ExportError.invalidOption("split \(name) is given twice in \"\(text)\"")
            }
            weights[split] = weight
        }
        try self.init(train: weights[.train] ?? 0, val: weights[.val] ?? 0, test: weights[.test] ?? 0)
    }

    private init(uncheckedTrain train: Double, val: Double, test: Double) {
        self.train = train
        self.val = val
        self.test = test
    }

    /// The share of `split`.
    public func ratio(of split: DatasetSplit) -> Double {
        switch split {
        case .train: train
        case .val: val
        case .test: test
        }
    }

    /// The ratios in the command-line form.
    public var description: String { "train=\(train),val=\(val),test=\(test)" }
}
