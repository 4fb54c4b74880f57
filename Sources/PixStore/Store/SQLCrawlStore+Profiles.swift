import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore {
    static let profileColumns =
        "id, email, full_name, avatar_url, role, onboarding_completed, created_at, updated_at"

    static func profile(from row: SQLRow) throws -> Profile {
        Profile(
            id: try row.require(row.uuid("id"), "id"),
            email: try row.require(row.string("email"), "email"),
            fullName: row.string("full_name"),
            avatarURL: row.string("avatar_url"),
            role: ProfileRole(rawValue: row.string("role") ?? "") ?? .user,
            onboardingCompleted: row.bool("onboarding_completed") ?? false,
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"))
    }

    public func createProfile(_ new: NewProfile) async throws -> Profile {
        let email = new.email.trimmingCharacters(in: .whitespaces).lowercased()
        guard email.contains("@"), email.count <= 255 else {
            throw StoreError.invalidInput(field: "email", reason: "must be an e-mail address of at most 255 characters")
        }
        return try await database.transaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO profiles (id, email, full_name, role) VALUES ($1, $2, $3, $4)
                RETURNING \(Self.profileColumns)
                """,
                .uuid(new.id), .text(email), .optional(new.fullName), .text(new.role.rawValue))
            return try Self.profile(from: try rows.first.orThrow("profile"))
        }
    }

    public func profile(id: UUID) async throws -> Profile? {
        try await database.read { connection in
            try connection.query("SELECT \(Self.profileColumns) FROM profiles WHERE id = $1", .uuid(id))
                .first.map(Self.profile(from:))
        }
    }

    public func profile(email: String) async throws -> Profile? {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        return try await database.read { connection in
            try connection.query("SELECT \(Self.profileColumns) FROM profiles WHERE email = $1", .text(email))
                .first.map(Self.profile(from:))
        }
    }

    public func listProfiles() async throws -> [Profile] {
        try await database.read { connection in
            try connection.query("SELECT \(Self.profileColumns) FROM profiles ORDER BY created_at, email")
                .map(Self.profile(from:))
        }
    }

    public func deleteProfile(id: UUID) async throws -> Bool {
        try await database.transaction { connection in
            !(try connection.query("DELETE FROM profiles WHERE id = $1 RETURNING id", .uuid(id)).isEmpty)
        }
    }

    // MARK: API tokens

    static func token(from row: SQLRow) throws -> APIToken {
        APIToken(
            id: try row.require(row.int64("id"), "id"),
            profileID: try row.require(row.uuid("profile_id"), "profile_id"),
            name: row.string("name") ?? "",
            prefix: row.string("token_prefix") ?? "",
            createdAt: try row.require(row.date("created_at"), "created_at"),
            lastUsedAt: row.date("last_used_at"),
            revokedAt: row.date("revoked_at"))
    }

    public func createAPIToken(profileID: UUID, name: String, tokenHash: String, prefix: String) async throws -> APIToken {
        try await database.transaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO api_tokens (profile_id, name, token_hash, token_prefix) VALUES ($1, $2, $3, $4)
                RETURNING id, profile_id, name, token_prefix, created_at, last_used_at, revoked_at
                """,
                .uuid(profileID), .text(name), .text(tokenHash), .text(prefix))
            return try Self.token(from: try rows.first.orThrow("api token"))
        }
    }

    /// How stale `last_used_at` may get before a request refreshes it: authentication is a read, and at most
    /// one write per token per interval competes with the workers' commits.
    public static let tokenUseRecordInterval = 60

    public func authenticate(tokenHash: String) async throws -> (Profile, APIToken)? {
        let found = try await database.read { connection -> (Profile, APIToken, Bool)? in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                SELECT id, profile_id, name, token_prefix, created_at, last_used_at, revoked_at,
                    CASE WHEN last_used_at IS NULL OR last_used_at < \(dialect.nowPlus(seconds: 2)) THEN 1 ELSE 0 END
                        AS stale
                FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL
                """, .text(tokenHash), .double(-Double(Self.tokenUseRecordInterval)))
            guard let row = rows.first else { return nil }
            let token = try Self.token(from: row)
            guard
                let profileRow = try connection.query(
                    "SELECT \(Self.profileColumns) FROM profiles WHERE id = $1", .uuid(token.profileID)
                ).first
            else { return nil }
            return (try Self.profile(from: profileRow), token, row.int("stale") == 1)
        }
        guard let (profile, token, stale) = found else { return nil }
        guard stale else { return (profile, token) }
        // One conditional statement: concurrent requests with the same token refresh it once.
        let refreshed = try await database.autocommit { connection in
            let dialect = connection.dialect
            return try connection.query(
                """
                UPDATE api_tokens SET last_used_at = \(dialect.now)
                WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < \(dialect.nowPlus(seconds: 2)))
                RETURNING last_used_at
                """, .int(token.id), .double(-Double(Self.tokenUseRecordInterval))
            ).first?.date("last_used_at")
        }
        var used = token
        if let refreshed { used.lastUsedAt = refreshed }
        return (profile, used)
    }

    public func listAPITokens(profileID: UUID) async throws -> [APIToken] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT id, profile_id, name, token_prefix, created_at, last_used_at, revoked_at
                FROM api_tokens WHERE profile_id = $1 ORDER BY id
                """, .uuid(profileID)
            ).map(Self.token(from:))
        }
    }

    public func revokeAPIToken(id: Int64, profileID: UUID) async throws -> Bool {
        try await database.transaction { connection in
            !(try connection.query(
                """
                UPDATE api_tokens SET revoked_at = \(connection.dialect.now)
                WHERE id = $1 AND profile_id = $2 AND revoked_at IS NULL RETURNING id
                """, .int(id), .uuid(profileID)
            ).isEmpty)
        }
    }

    // MARK: Projects

    static let projectColumns = "id, name, description, user_id, status, created_at, updated_at"

    static func project(from row: SQLRow) throws -> Project {
        Project(
            id: try row.require(row.int64("id"), "id"),
            name: row.string("name") ?? "",
            description: row.string("description"),
            userID: try row.require(row.uuid("user_id"), "user_id"),
            status: ProjectStatus(rawValue: row.string("status") ?? "") ?? .active,
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"))
    }

    public func createProject(_ new: NewProject) async throws -> Project {
        let name = new.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            throw StoreError.invalidInput(field: "name", reason: "must be 1 to 100 characters")
        }
        return try await database.transaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO projects (name, description, user_id, status) VALUES ($1, $2, $3, $4)
                RETURNING \(Self.projectColumns)
                """, .text(name), .optional(new.description), .uuid(new.userID), .text(new.status.rawValue))
            return try Self.project(from: try rows.first.orThrow("project"))
        }
    }

    public func project(id: Int64) async throws -> Project? {
        try await database.read { connection in
            try connection.query("SELECT \(Self.projectColumns) FROM projects WHERE id = $1", .int(id))
                .first.map(Self.project(from:))
        }
    }

    public func listProjects(ownerID: UUID?) async throws -> [Project] {
        try await database.read { connection in
            if let ownerID {
                return try connection.query(
                    "SELECT \(Self.projectColumns) FROM projects WHERE user_id = $1 ORDER BY id", .uuid(ownerID)
                ).map(Self.project(from:))
            }
            return try connection.query("SELECT \(Self.projectColumns) FROM projects ORDER BY id")
                .map(Self.project(from:))
        }
    }

    public func updateProject(id: Int64, name: String?, description: String?, status: ProjectStatus?) async throws
        -> Project?
    {
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 100 else {
                throw StoreError.invalidInput(field: "name", reason: "must be 1 to 100 characters")
            }
        }
        return try await database.transaction { connection in
            try connection.query(
                """
                UPDATE projects SET name = COALESCE($2, name), description = COALESCE($3, description),
                    status = COALESCE($4, status), updated_at = \(connection.dialect.now)
                WHERE id = $1 RETURNING \(Self.projectColumns)
                """, .int(id), .optional(name?.trimmingCharacters(in: .whitespacesAndNewlines)),
                .optional(description), .optional(status?.rawValue)
            ).first.map(Self.project(from:))
        }
    }

    public func deleteProject(id: Int64) async throws -> Bool {
        try await database.transaction { connection in
            !(try connection.query("DELETE FROM projects WHERE id = $1 RETURNING id", .int(id)).isEmpty)
        }
    }
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let value = self else { throw StoreError.notFound(what) }
        return value
    }
}
