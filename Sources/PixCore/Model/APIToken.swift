import Foundation

/// An API token's metadata; the token itself is never stored, only its SHA-256.
public struct APIToken: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var profileID: UUID
    public var name: String
    /// The first characters of the token, to tell tokens apart in lists.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: Int64, profileID: UUID, name: String, prefix: String, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.profileID = profileID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
