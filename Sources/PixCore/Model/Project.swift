import Foundation

/// A user's crawl project: a named group of crawl jobs.
public struct Project: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var name: String
    public var description: String?
    public var userID: UUID
    public var status: ProjectStatus
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, name: String, description: String?, userID: UUID, status: ProjectStatus, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.userID = userID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A project to create.
public struct NewProject: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var userID: UUID
    public var status: ProjectStatus

    public init(name: String, description: String? = nil, userID: UUID, status: ProjectStatus = .active) {
        self.name = name
        self.description = description
        self.userID = userID
        self.status = status
    }
}
