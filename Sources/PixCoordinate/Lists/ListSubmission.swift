import Foundation
import Logging
import PixCore
import PixSources
import PixStore

/// Stages the URL lists a submission names as local files (`urls:FILE`) into the shared storage and rewrites them
/// as `list:<sha256>`, so that workers anywhere read the staged copy and the submitter's file may go away as soon as
/// the submit returns.
public struct ListSubmission: Sendable {
    /// The shared storage lists are staged into.
    public let lists: any ListObjectStore
    /// A local directory for decompressed copies and indexes while they are built.
    public let scratch: URL
    /// Receives warnings about skipped rows.
    public let logger: Logger

    /// Creates a stager.
    public init(
        lists: any ListObjectStore, scratch: URL = FileManager.default.temporaryDirectory, logger: Logger
    ) {
        self.lists = lists
        self.scratch = scratch
        self.logger = logger
    }

    /// Stages one local list file and records it for `owner`.
    /// - Parameter columns: the URL column (checked), caption and hash columns.
    /// - Throws: ``PlanningError`` naming `sources` for a missing, unreadable or empty list or one without a URL
    ///   column (nothing is recorded then); store errors.
    public func stage(
        path: String, columns: URLListSource.Columns = URLListSource.Columns(), owner: UUID, store: SQLCrawlStore
    ) async throws -> URLListRecord {
        let staged: StagedList
        do {
            staged = try URLListStaging.stage(
                path: path, columns: columns, into: lists, scratch: scratch, logger: logger)
        } catch {
            throw PlanningError.unknownSource("urls:\(path)", at: 0, error.message)
        }
        return try await store.registerList(
            URLListRecord(
                ownerID: owner, sha256: staged.sha256, format: staged.format.rawValue, columns: staged.columns,
                rows: Int64(staged.rows), bytes: staged.bytes))
    }

    /// The submission with every `urls:FILE` source staged and named `list:<sha256>` (with `columns`); other
    /// sources unchanged.
    /// - Throws: ``PlanningError`` naming `sources` for a list that cannot be staged; store errors.
    public func staging(
        _ submission: JobSubmission, columns: URLListSource.Columns = URLListSource.Columns(), owner: UUID,
        store: SQLCrawlStore
    ) async throws -> JobSubmission {
        var staged = submission
        staged.sources = []
        for spec in submission.sources {
            guard case .urls(let path)? = try? SourceSpec(parsing: spec) else {
                staged.sources.append(spec)
                continue
            }
            let list = try await stage(path: path, columns: columns, owner: owner, store: store)
            staged.sources.append(SourceSpec.list(id: list.sha256, columns: columns).description)
        }
        return staged
    }
}
