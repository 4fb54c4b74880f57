import Foundation
import PixCore
import PixStore
import PixStoreOps
import PixTestSupport

/// Awkward values that must survive a store migration exactly.
enum Awkward {
    static let keywords = ["🦊 fox", "quote \"q\"", "back\\slash", "it's", "日本語", "  spaced  ", "tab\there"]
    /// Printable and control characters without a NUL byte (PostgreSQL text cannot hold NUL).
    static let binaryish = String(String.UnicodeScalarView((1...0x7F).compactMap(Unicode.Scalar.init))) + "\u{80}\u{FF}\u{FFFD}"
    static let longText = String(repeating: "Zoë \"quoted\" \\ back 🦊 日本 ", count: 4_000)
    static let maxName = String(repeating: "🦊", count: 100)
    static let maxFilename = String(repeating: "é", count: 251) + ".jpg"
    static let labels =
        #"{"b": [1, 2.50, true, null, -0.0, 1e3, 12345678901234567890], "a": {"z": "\u00e9\\\"q\"\/", "emoji": "🦊"}, "a2": {}, "a": "last wins"}"#
    static let metadata = #"{"nested": {"deep": [[], {}, [{"k": "v"}]]}, "quote": "it's \"fine\"", "ctl": "\u0001\t"}"#
}

/// What ``seedStore(_:)`` created, for tests to refer to.
struct Seed {
    var profiles: [Profile] = []
    var projects: [Project] = []
    var jobs: [JobStatus: Int64] = [:]
    var deletedProjectJob: Int64 = 0
    var imageIDs: [Int64] = []
    var exportIDs: [Int64] = []
    var deletedErrorID: Int64 = 0
}

/// Fills an SQLite store with every table, jobs in every status, chunks in every status and awkward data.
/// No lease is left unexpired (so migrate-store runs without --force).
func seedStore(_ store: SQLCrawlStore) async throws -> Seed {
    var seed = Seed()
    let owner = try await store.createProfile(
        NewProfile(email: "zoë+owner@example.com", fullName: "Zoë 🦊 \"O'Brien\" \\ back", role: .admin))
    let second = try await store.createProfile(NewProfile(email: "second@example.com"))
    let third = try await store.createProfile(
        NewProfile(email: "moderator@example.com", fullName: "Zoë\u{1}\u{7F} ctl", role: .moderator))
    seed.profiles = [owner, second, third]
    _ = try await store.createAPIToken(
        profileID: owner.id, name: "laptop 🦊", tokenHash: String(repeating: "a", count: 64), prefix: "pxc_abcdefghijkl")
    let revoked = try await store.createAPIToken(
        profileID: second.id, name: "old", tokenHash: String(repeating: "b", count: 64), prefix: "pxc_0123456789ab")
    _ = try await store.revokeAPIToken(id: revoked.id, profileID: second.id)
    try await store.registerList(
        URLListRecord(
            ownerID: second.id, sha256: String(repeating: "ab", count: 32), format: "csv",
            columns: ["url", "caption"], rows: 3, bytes: 120))

    let active = try await store.createProject(NewProject(name: Awkward.maxName, description: Awkward.longText, userID: owner.id))
    let archived = try await store.createProject(
        NewProject(name: "archived", description: nil, userID: second.id, status: .archived))
    let deleted = try await store.createProject(
        NewProject(name: "deleted", description: "gone", userID: second.id, status: .deleted))
    seed.projects = [active, archived, deleted]

    func job(_ project: Project, _ name: String, chunks: Int, maxAttempts: Int = 3, maxImages: Int = 100) async throws -> CrawlJob
    {
        try await store.createJob(
            NewCrawlJob(
                projectID: project.id, name: name, keywords: Awkward.keywords, maxImages: maxImages,
                sources: ["demo", "urls:/tmp/list \"1\".csv"],
                rules: ValidationRules(), chunkSize: 7, overFetch: 1.1, priority: -3,
                resize: name == "pending"
                    ? ResizeOptions(size: 256, mode: .centerCrop, onlyIfBigger: true, encoding: .webp, quality: 80) : nil),
            chunks: (0..<chunks).map {
                NewChunk(
                    keyword: Awkward.keywords[$0 % Awkward.keywords.count], source: "demo", rangeStart: $0 * 7,
                    rangeEnd: $0 * 7 + 7, maxAttempts: maxAttempts, priority: $0)
            })
    }

    var imageCounter = 0
    func images(_ count: Int, keyword: String) -> [NewImage] {
        (0..<count).map { _ in
            imageCounter += 1
            let index = imageCounter
            let sha = String(format: "%064lx", index)
            return NewImage(
                originalURL: "https://Example.COM:8443/img/\(index).jpg?q=🦊&x=\"1\"",
                filename: index == 1 ? Awkward.maxFilename : "\(sha).jpg",
                storageURL: index % 5 == 0 ? nil : "images/\(sha).jpg", width: 320 + index, height: 240,
                fileSize: index == 2 ? 5_000_000_000 : 1000 + index,
                format: index % 2 == 0 ? .png : .jpeg, sha256: sha,
                perceptualHash: index == 1 ? UInt64.max : (index == 2 ? 1 << 63 : UInt64(index) &* 0x9E37_79B9_7F4A_7C15),
                keyword: keyword, source: index % 3 == 0 ? "openverse" : "demo", license: index % 4 == 0 ? nil : "by-sa",
                licenseVersion: "4.0", creator: "Zoë \"quoted\" \\ 🦊", landingURL: nil,
                title: index == 3 ? Awkward.longText : (index == 4 ? Awkward.binaryish : "image \(index)"),
                keptColumns: index % 2 == 1 ? ["photo_id": "p-\(index) 🦊", "similarity": "0.3\(index)"] : nil,
                derivative: index % 3 == 1
                    ? ImageDerivative(
                        sha256: String(format: "%064lx", 1_000_000 + index), byteCount: index == 1 ? 5_000_000_000 : 900,
                        width: 256, height: 192, originalWidth: 240, originalHeight: 320 + index) : nil)
        }
    }

    // pending
    let pending = try await job(active, "pending", chunks: 2)
    seed.jobs[.pending] = pending.id

    // planning: a plan written in batches whose last batch has not committed (none of its chunks is claimable)
    let planning = try await job(active, "planning", chunks: 2, maxImages: 1_000_000_000)
    try await store.database.transaction { connection in
        try connection.query("UPDATE crawl_jobs SET status = 'planning' WHERE id = $1", .int(planning.id))
    }
    seed.jobs[.planning] = planning.id

    // running: one chunk completed with images and errors, one active with an expired lease, one pending
    let running = try await job(active, "running", chunks: 3)
    seed.jobs[.running] = running.id
    let first = try requireValue(try await store.claimChunk(workerID: "worker-a", lease: .seconds(600), jobID: running.id))
    _ = try await store.completeChunk(
        chunkID: first.chunk.id, token: first.leaseToken,
        finalProgress: ChunkProgress(
            images: images(6, keyword: "🦊 fox"),
            errors: [
                NewErrorLog(
                    jobID: running.id, chunkID: first.chunk.id, category: .decode, message: Awkward.longText,
                    url: "http://user:pa%40ss@Bad.Example.org:8080/x.jpg",
                    context: ["reason": "truncated \"JPEG\"", "emoji": "🦊"]),
                NewErrorLog(
                    jobID: running.id, chunkID: first.chunk.id, category: .httpStatus, severity: .warning,
                    message: "HTTP 404", url: "https://[2001:db8::1]:443/y.png", context: [:]),
            ],
            downloaded: 8, checkpoint: ChunkCheckpoint(cursor: "page=2&c=\"x\"", candidatesDone: 8)))
    let second1 = try requireValue(try await store.claimChunk(workerID: "worker-b", lease: .seconds(600), jobID: running.id))
    try await store.database.withConnection { connection in
        try connection.query(
            "UPDATE crawl_chunks SET lease_expires_at = '2024-01-01T00:00:00.123456Z' WHERE id = $1", .int(second1.chunk.id))
    }

    // completed
    let completed = try await job(archived, "completed", chunks: 1)
    seed.jobs[.completed] = completed.id
    let only = try requireValue(try await store.claimChunk(workerID: "worker-a", lease: .seconds(600), jobID: completed.id))
    _ = try await store.completeChunk(
        chunkID: only.chunk.id, token: only.leaseToken,
        finalProgress: ChunkProgress(
            images: images(4, keyword: "日本語"), downloaded: 4, checkpoint: ChunkCheckpoint(cursor: nil, candidatesDone: 4)))

    // failed
    let failed = try await job(archived, "failed", chunks: 1, maxAttempts: 1)
    seed.jobs[.failed] = failed.id
    let doomed = try requireValue(try await store.claimChunk(workerID: "worker-b", lease: .seconds(600), jobID: failed.id))
    _ = try await store.failChunkAttempt(
        chunkID: doomed.chunk.id, token: doomed.leaseToken,
        error: NewErrorLog(jobID: failed.id, chunkID: doomed.chunk.id, category: .source, message: "source said \\\"no\\\""),
        retryAfter: .seconds(1))

    // cancelled
    let cancelled = try await job(active, "cancelled", chunks: 2)
    seed.jobs[.cancelled] = cancelled.id
    _ = try await store.cancelJob(id: cancelled.id)

    // a job of the deleted project, with images
    let gone = try await job(deleted, "of a deleted project", chunks: 1)
    seed.deletedProjectJob = gone.id
    _ = try await store.insertImages(jobID: gone.id, images: images(3, keyword: "it's"))

    let allImages = try await store.images(jobID: running.id, validOnly: false, afterID: 0, limit: 100)
    seed.imageIDs = allImages.map(\.id)
    _ = try await store.setImageValidity(imageID: allImages[1].id, isValid: false, reason: "re-validated: too small \"x\"")

    try await store.recordErrors([
        NewErrorLog(jobID: nil, category: .database, severity: .critical, message: "no job", context: ["k": "v"]),
        NewErrorLog(jobID: completed.id, category: .robots, message: "robots", url: "HTTPS://CAPS.example.com/a"),
        NewErrorLog(jobID: completed.id, category: .network, message: "to be deleted"),
    ])
    try await store.logActivity(
        NewActivity(
            userID: owner.id, action: "project.created", resourceType: "project",
            resourceID: "\(active.id)", metadata: ["name": Awkward.maxName]))
    try await store.logActivity(NewActivity(userID: nil, action: "system.gc", metadata: [:]))
    try await store.registerWorker(id: "worker-a", hostname: "host-α", pid: 4242, version: "1.0.0")
    try await store.registerWorker(id: "worker-b", hostname: "host-β", pid: 7, version: "1.0.0")
    try await store.workerHeartbeat(id: "worker-b", status: .stopping, currentChunkID: second1.chunk.id)

    // Raw rows for tables the store API of this module does not write, and awkward values.
    seed.deletedErrorID = try await store.database.withConnection { connection -> Int64 in
        try connection.query(
            """
            INSERT INTO profiles (id, email, role, onboarding_completed, onboarding_completed_at, created_at, updated_at)
            VALUES ('0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9', 'UPPER@example.com', 'user', 1,
                    '2025-03-01T10:20:30.456Z', '2024-02-29T23:59:59.999Z', '2024-06-01T12:00:00+02:00')
            """)
        try connection.query(
            "UPDATE profiles SET onboarding_completed = 1, onboarding_completed_at = '2025-03-01T10:20:30.4Z' WHERE id = $1",
            .uuid(owner.id))
        try connection.query(
            """
            UPDATE images SET labels = $1, metadata = $2, is_duplicate = 1, created_at = '2024-02-29T23:59:59.999Z',
                downloaded_at = '2024-01-01T00:00:00.123456Z', hash = NULL WHERE id = $3
            """, .text(Awkward.labels), .text(Awkward.metadata), .int(allImages[0].id))
        try connection.query(
            "UPDATE activity_logs SET timestamp = '2024-05-05 12:00:00' WHERE action = 'system.gc'")
        try connection.query(
            """
            INSERT INTO validation_jobs (crawl_job_id, user_id, name, status, validation_rules, total_images,
                validated_images, invalid_images, progress, started_at, completed_at)
            VALUES ($1, $2, 'revalidate "all"', 'completed', '{"minWidth": 64, "formats": ["png"]}', 6, 6, 1, 100,
                '2025-01-02T03:04:05.678Z', '2025-01-02T03:04:06Z')
            """, .int(running.id), .uuid(owner.id))
        try connection.query(
            "INSERT INTO validation_jobs (crawl_job_id, status) VALUES ($1, 'pending')", .int(completed.id))
        let statuses: [(String, String, String?)] = [
            ("pending", "zip", nil), ("running", "tar.gz", "2024-01-01T00:00:00Z"), ("completed", "webdataset", nil),
            ("failed", "jsonl", nil), ("expired", "csv", nil),
        ]
        for (status, format, lease) in statuses {
            try connection.query(
                """
                INSERT INTO export_jobs (crawl_job_id, user_id, name, format, status, progress, total_images,
                    exported_images, file_size, file_path, sha256, download_url, expires_at, export_options,
                    error_message, attempts, lease_owner, lease_token, lease_expires_at, started_at, completed_at)
                VALUES ($1, $2, $3, $4, $5, $6, 10, $7, $8, $9, $10, NULL, $11, $12, $13, 1, $14, $15, $16,
                    '2025-07-07T07:07:07.007Z', $17)
                """,
                .int(running.id), status == "failed" ? .null : .uuid(owner.id), .text("export \(status) 🦊"),
                .text(format), .text(status), .int(status == "completed" ? 100 : 40),
                .int(status == "completed" ? 10 : 4), status == "completed" ? .int(123_456_789_012) : .null,
                status == "completed" ? .text("exports/\(status) \"1\".tar") : .null,
                status == "completed" ? .text(String(repeating: "c", count: 64)) : .null,
                status == "completed" ? .text("2030-01-01T00:00:00.000Z") : .null,
                .text(#"{"split": {"train": 0.8, "val": 0.2}, "dedupe": true, "seed": 42}"#),
                status == "failed" ? .text("disk full: \\ \"x\"") : .null,
                lease.map { _ in .text("worker-a") } ?? .null, lease.map { _ in .text("token-1") } ?? .null,
                lease.map { .text($0) } ?? .null, status == "completed" ? .text("2025-07-07T07:08:00Z") : .null)
        }
        let completedExport =
            try connection.query(
                "SELECT id FROM export_jobs WHERE status = 'completed'"
            ).first?.int64("id") ?? 0
        for (index, expires) in ["2030-01-01T00:00:00.5Z", "2020-01-01T00:00:00Z"].enumerated() {
            try connection.query(
                """
                INSERT INTO download_records (export_id, token_hash, expires_at, download_count, last_download_at)
                VALUES ($1, $2, $3, $4, $5)
                """, .int(completedExport), .text(String(repeating: "\(index + 1)", count: 64)), .text(expires),
                .int(index * 3), index == 0 ? .text("2025-07-08T00:00:00.001Z") : .null)
        }
        // The last error record is deleted: SQLite's AUTOINCREMENT high-water mark is then above MAX(id).
        let last = try connection.query("SELECT MAX(id) AS m FROM error_logs").first?.int64("m") ?? 0
        try connection.query("DELETE FROM error_logs WHERE id = $1", .int(last))
        return last
    }
    seed.exportIDs = try await store.database.withConnection { connection in
        try connection.query("SELECT id FROM export_jobs ORDER BY id").compactMap { $0.int64("id") }
    }
    return seed
}

/// A migrated SQLite store in a fresh file, seeded with ``seedStore(_:)``.
func makeSeededSQLiteStore() async throws -> (SQLCrawlStore, Seed) {
    let store = try await TestStores.make(.sqlite)
    do {
        return (store, try await seedStore(store))
    } catch {
        store.close()
        throw error
    }
}

struct MissingValue: Error, CustomStringConvertible {
    let description: String
}

/// Unwraps a value a seed step needs (outside a test function, `#require` is not available).
func requireValue<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw MissingValue(description: "missing \(what)") }
    return value
}
