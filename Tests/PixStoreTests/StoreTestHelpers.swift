import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

/// A profile, a project and a job with `chunkCount` chunks.
struct Fixture {
    let profile: Profile
    let project: Project
    let job: CrawlJob
}

func makeFixture(_ store: SQLCrawlStore, chunkCount: Int = 4, maxImages: Int = 100) async throws -> Fixture {
    let profile = try await store.createProfile(NewProfile(email: "user-\(UUID().uuidString.prefix(8))@example.com"))
    let project = try await store.createProject(NewProject(name: "Foxes", userID: profile.id))
    let chunks = (0..<chunkCount).map {
        NewChunk(keyword: $0 % 2 == 0 ? "red fox" : "arctic fox", source: "demo", rangeStart: $0 * 10, rangeEnd: $0 * 10 + 10)
    }
    let job = try await store.createJob(
        NewCrawlJob(
            projectID: project.id, name: "foxes", keywords: ["red fox", "arctic fox"], maxImages: maxImages,
            sources: ["demo"]), chunks: chunks)
    return Fixture(profile: profile, project: project, job: job)
}

/// A job to plan in a fresh project, and `chunks` chunks of 10 positions for it.
func makePlan(_ store: SQLCrawlStore, chunks: Int) async throws -> (NewCrawlJob, [NewChunk]) {
    let profile = try await store.createProfile(NewProfile(email: "planner@example.com"))
    let project = try await store.createProject(NewProject(name: "p", userID: profile.id))
    let job = NewCrawlJob(projectID: project.id, name: "j", keywords: ["k"], maxImages: 100, sources: ["demo"])
    return (job, (0..<chunks).map { NewChunk(keyword: "k", source: "demo", rangeStart: $0 * 10, rangeEnd: $0 * 10 + 10) })
}

func newImage(_ index: Int, keyword: String = "red fox", sha: String? = nil, url: String? = nil) -> NewImage {
    let digest = sha ?? String(repeating: "0", count: 64 - String(index, radix: 16).count) + String(index, radix: 16)
    return NewImage(
        originalURL: url ?? "http://127.0.0.1/img/\(index).jpg", filename: "\(digest).jpg",
        storageURL: "images/\(digest).jpg", width: 320, height: 240, fileSize: 1000 + index, format: .jpeg,
        sha256: digest, perceptualHash: UInt64.max - UInt64(index), keyword: keyword, source: "demo",
        license: "by", creator: "Zoë \"quoted\"")
}

/// A profile with one API token whose SHA-256 is `digest` repeated (two hex digits).
func makeToken(_ store: SQLCrawlStore, email: String, digest: String) async throws -> (Profile, APIToken, String) {
    let profile = try await store.createProfile(NewProfile(email: email))
    let hash = String(repeating: digest, count: 32)
    let token = try await store.createAPIToken(profileID: profile.id, name: "ci", tokenHash: hash, prefix: "pxc_\(digest)")
    return (profile, token, hash)
}
