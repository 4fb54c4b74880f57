import Foundation

/// A worker process as registered in the store.
public struct WorkerRecord: Sendable, Codable, Hashable, Identifiable {
    public var id: String
    public var hostname: String
    public var pid: Int
    public var version: String
    public var status: WorkerStatus
    public var currentChunkID: Int64?
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(
        id: String, hostname: String, pid: Int, version: String, status: WorkerStatus, currentChunkID: Int64?,
        startedAt: Date, heartbeatAt: Date
    ) {
        self.id = id
        self.hostname = hostname
        self.pid = pid
        self.version = version
        self.status = status
        self.currentChunkID = currentChunkID
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}
