import Foundation

/// A user of PixCrawler.
public struct Profile: Sendable, Codable, Hashable, Identifiable {
    public var id: UUID
    public var email: String
    public var fullName: String?
    public var avatarURL: String?
    public var role: ProfileRole
    public var onboardingCompleted: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, email: String, fullName: String? = nil, avatarURL: String? = nil, role: ProfileRole = .user,
        onboardingCompleted: Bool = false, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.fullName = fullName
        self.avatarURL = avatarURL
        self.role = role
        self.onboardingCompleted = onboardingCompleted
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A profile to create.
public struct NewProfile: Sendable, Hashable {
    public var id: UUID
    public var email: String
    public var fullName: String?
    public var role: ProfileRole

    public init(id: UUID = UUID(), email: String, fullName: String? = nil, role: ProfileRole = .user) {
        self.id = id
        self.email = email
        self.fullName = fullName
        self.role = role
    }
}
