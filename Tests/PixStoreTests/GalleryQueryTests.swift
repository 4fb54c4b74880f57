import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

/// The dashboard's queries, on both engines: a job's valid images newest first, and examples of one reject category.
@Suite("Store conformance: gallery queries")
struct GalleryQueryTests {
    @Test("newestImages pages a job's valid images newest first with a before-id cursor", arguments: Backend.allCases)
    func newestImages(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        _ = try await store.insertImages(jobID: fixture.job.id, images: (1...5).map { newImage($0) })
        let all = try await store.images(jobID: fixture.job.id, validOnly: false, afterID: 0, limit: 10).map(\.id)
        #expect(try await store.setImageValidity(imageID: all[3], isValid: false, reason: "DIMENSIONS"))
        let first = try await store.newestImages(jobID: fixture.job.id, beforeID: nil, limit: 2).map(\.id)
        #expect(first == [all[4], all[2]], "newest first, invalid rows left out")
        let next = try await store.newestImages(jobID: fixture.job.id, beforeID: first.last, limit: 2).map(\.id)
        #expect(next == [all[1], all[0]])
    }

    @Test("errors(jobID:category:limit:) gives the newest records of one category only", arguments: Backend.allCases)
    func errorsOfCategory(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        try await store.recordErrors([
            NewErrorLog(jobID: fixture.job.id, category: .decode, message: "first", url: "http://a.test/1.jpg"),
            NewErrorLog(jobID: fixture.job.id, category: .format, message: "html", url: "http://a.test/2.jpg"),
            NewErrorLog(jobID: fixture.job.id, category: .decode, message: "second", url: "http://a.test/3.jpg"),
        ])
        let decode = try await store.errors(jobID: fixture.job.id, category: .decode, limit: 5)
        #expect(decode.map(\.message) == ["second", "first"])
        #expect(decode.first?.url == "http://a.test/3.jpg")
        #expect(try await store.errors(jobID: fixture.job.id, category: .decode, limit: 1).count == 1)
        #expect(try await store.errors(jobID: fixture.job.id, category: .robots, limit: 5).isEmpty)
    }
}
