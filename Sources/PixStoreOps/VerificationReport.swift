import PixCore
import PixSQL
import PixStore

/// How one table compares between the source and the target store.
public struct TableVerification: Sendable, Hashable, Codable {
    /// The table.
    public let table: String
    /// Rows in the source.
    public let sourceRows: Int
    /// Rows in the target.
    public let targetRows: Int
    /// SHA-256 (hex) over the canonical rendering of every source row, in key order.
    public let sourceChecksum: String
    /// The same over the target's rows.
    public let targetChecksum: String
    /// The primary key of the first row that differs or exists on one side only, in key order.
    public let firstDifferingKey: String?
    /// The first column that differs in that row, when the row exists on both sides.
    public let firstDifferingColumn: String?

    /// True when the counts and checksums are equal and no row differs.
    public var matches: Bool {
        sourceRows == targetRows && sourceChecksum == targetChecksum && firstDifferingKey == nil
    }
}

/// The outcome of comparing every table of two stores.
public struct VerificationReport: Sendable, Hashable, Codable {
    /// One entry per table, in copy order.
    public let tables: [TableVerification]

    /// True when every table matches.
    public var passed: Bool { tables.allSatisfy(\.matches) }

    /// The tables that do not match.
    public var mismatches: [TableVerification] { tables.filter { !$0.matches } }

    /// The entry of `table`, if it was verified.
    public subscript(table: String) -> TableVerification? { tables.first { $0.table == table } }
}
