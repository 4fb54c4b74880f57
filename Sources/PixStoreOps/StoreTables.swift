import PixCore
import PixSQL
import PixStore

/// The one place that lists PixCrawler's tables for whole-store operations (migrate-store, verification).
///
/// Columns are discovered from each engine's catalog; the table list is kept here, in foreign-key order,
/// so parents are copied before their children. A table found in a store but not listed here stops
/// migrate-store with an error naming it: a new migration that adds a table must add it here too.
public enum StoreTables {
    /// Every application table, parents before children.
    public static let copyOrder: [String] = [
        "profiles",
        "api_tokens",
        "url_lists",
        "projects",
        "crawl_jobs",
        "crawl_chunks",
        "images",
        "activity_logs",
        "validation_jobs",
        "export_jobs",
        "download_records",
        "workers",
        "error_logs",
    ]

    /// The table in which migrate-store records its progress in the target store.
    public static let progressTable = "store_migration_progress"

    /// Tables that belong to the machinery, not to the data: never copied, never verified.
    /// (`schema_migrations` is written by each store's own migrator, `commit_tokens` by its transactions;
    /// SQLite's `sqlite_*` tables are internal; `host_budgets` and `host_leases` hold the running fleet's
    /// connections and pauses, which a new store starts without.)
    public static let bookkeeping: Set<String> = [
        "schema_migrations", "commit_tokens", progressTable, "host_budgets", "host_leases",
    ]

    static func isBookkeeping(_ table: String) -> Bool {
        bookkeeping.contains(table) || table.hasPrefix("sqlite_")
    }
}
