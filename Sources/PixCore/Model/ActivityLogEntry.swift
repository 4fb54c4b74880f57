import Foundation

/// A user action recorded for audit.
public struct ActivityLogEntry: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var userID: UUID?
    public var action: String
    public var resourceType: String?
    public var resourceID: String?
    public var metadata: [String: String]
    public var timestamp: Date

    public init(
        id: Int64, userID: UUID?, action: String, resourceType: String?, resourceID: String?,
        metadata: [String: String], timestamp: Date
    ) {
        self.id = id
        self.userID = userID
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.metadata = metadata
        self.timestamp = timestamp
    }
}

/// A user action to record.
public struct NewActivity: Sendable, Hashable {
    public var userID: UUID?
    public var action: String
    public var resourceType: String?
    public var resourceID: String?
    public var metadata: [String: String]

    public init(
        userID: UUID?, action: String, resourceType: String? = nil, resourceID: String? = nil,
        metadata: [String: String] = [:]
    ) {
        self.userID = userID
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.metadata = metadata
    }
}
