import Foundation
import PixCore
import PixSQL
import PixStore

/// A length of time written the way operators type it: `90s`, `45m`, `24h`, `30d`, `2w`, or a sum such
/// as `1d12h`. Used by `pixcrawl stats --since` and the retention options.
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    /// The length in whole seconds.
    public let seconds: Int64

    /// A span of `seconds` seconds.
    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// Parses `text`: one or more `<number><unit>` parts, units `s`, `m`, `h`, `d`, `w`.
    /// - Throws: ``StoreOperationsError/invalidTimeSpan(_:)`` for anything else, zero or a negative total.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        var total: Int64 = 0
        var number: Int64?
        var parts = 0
        for character in trimmed {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (shifted, overflowA) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (next, overflowB) = shifted.addingReportingOverflow(Int64(digit))
                guard !overflowA, !overflowB else { throw StoreOperationsError.invalidTimeSpan(text) }
                number = next
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: throw StoreOperationsError.invalidTimeSpan(text)
            }
            guard let value = number else { throw StoreOperationsError.invalidTimeSpan(text) }
            let (product, overflowA) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowB) = total.addingReportingOverflow(product)
            guard !overflowA, !overflowB else { throw StoreOperationsError.invalidTimeSpan(text) }
            total = sum
            number = nil
            parts += 1
        }
        guard number == nil, parts > 0, total > 0 else { throw StoreOperationsError.invalidTimeSpan(text) }
        seconds = total
    }

    /// The span as a `Duration`.
    public var duration: Duration { .seconds(seconds) }

    /// The instant this span before `date`: the cutoff of "older than".
    public func before(_ date: Date) -> Date { date.addingTimeInterval(-TimeInterval(seconds)) }

    /// The shortest rendering in the largest whole units, e.g. `1d12h`.
    public var description: String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }
}
