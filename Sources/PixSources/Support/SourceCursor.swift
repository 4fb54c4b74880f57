/// Cursors of the position-based sources: the next result position, as decimal text.
public enum SourceCursor {
    /// The position a call starts at: `range.lowerBound` without a cursor, else the cursor's position.
    /// - Throws: ``SourceError/Code/invalidCursor`` when the cursor is not a position within `range`.
    public static func start(_ cursor: String?, in range: Range<Int>, source: String, keyword: String) throws(SourceError)
        -> Int
    {
        guard let cursor else { return range.lowerBound }
        guard let position = Int(cursor), position >= range.lowerBound, position <= range.upperBound else {
            throw SourceError(
                .invalidCursor, source: source, keyword: keyword,
                message: "cursor '\(cursor)' is not a position in \(range.lowerBound)..<\(range.upperBound); "
                    + "the chunk's checkpoint was written by a different source")
        }
        return position
    }
}

/// Short descriptions of JSON decoding failures, for error messages.
enum JSONProblem {
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context)?:
            return "invalid JSON" + path(context.codingPath)
        case .keyNotFound(let key, let context)?:
            return "missing '\(key.stringValue)'" + path(context.codingPath)
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "unexpected value" + path(context.codingPath) + ": \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        guard !codingPath.isEmpty else { return "" }
        return " at " + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
