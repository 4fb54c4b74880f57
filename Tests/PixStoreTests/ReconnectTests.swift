import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

@Suite("PostgreSQL reconnect")
struct ReconnectTests {
    @Test("a store whose server connection is killed reconnects and the next transaction succeeds")
    func reconnectsAfterTermination() async throws {
        let store = try await TestStores.make(.postgres, maxConnections: 1)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "r@example.com"))
        let pid = try await store.database.withConnection { connection in
            try connection.query("SELECT pg_backend_pid() AS pid").first?.int("pid")
        }
        let killer = try await TestStores.make(.postgres, maxConnections: 1)
        defer { killer.close() }
        let terminated = try await killer.database.withConnection { connection in
            try connection.query("SELECT pg_terminate_backend($1) AS done", .int(try #require(pid))).first?.bool("done")
        }
        #expect(terminated == true)
        // The pooled connection is dead; the transaction notices, reconnects with backoff and runs again.
        let project = try await store.createProject(NewProject(name: "after reconnect", userID: profile.id))
        #expect(project.userID == profile.id)
        let newPID = try await store.database.withConnection { connection in
            try connection.query("SELECT pg_backend_pid() AS pid").first?.int("pid")
        }
        #expect(newPID != pid)
    }
}
