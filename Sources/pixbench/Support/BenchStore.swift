import Foundation
import PixCore
import PixStore

/// Opens a store for a benchmark (migrating it) and creates the profile and project its jobs belong to.
struct BenchStore {
    let store: SQLCrawlStore
    let project: Project
    let owner: Profile

    static func open(url: String, connections: Int) async throws -> BenchStore {
        let store = try await SQLCrawlStore.open(try DatabaseLocation.parse(url), maxConnections: connections)
        do {
            _ = try await Migrator(database: store.database, directory: nil).migrate()
            let owner = try await store.createProfile(
                NewProfile(email: "bench-\(UUID().uuidString.prefix(8).lowercased())@example.com", fullName: "bench"))
            let project = try await store.createProject(NewProject(name: "bench", userID: owner.id))
            return BenchStore(store: store, project: project, owner: owner)
        } catch {
            store.close()
            throw error
        }
    }

    /// A job of `chunks` one-position chunks that no worker will run (its source is never fetched).
    func makeJob(name: String, chunks: Int) async throws -> CrawlJob {
        let keyword = "bench"
        let source = "urls:bench-unused.txt"
        return try await store.createJob(
            NewCrawlJob(
                projectID: project.id, name: name, keywords: [keyword], maxImages: max(1, chunks), sources: [source],
                chunkSize: 1, overFetch: 1),
            chunks: (0..<chunks).map { NewChunk(keyword: keyword, source: source, rangeStart: $0, rangeEnd: $0 + 1) })
    }
}
