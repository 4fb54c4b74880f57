import Foundation
import Logging

/// How `pixcrawl serve` listens and what it accepts.
public struct ServeConfiguration: Sendable {
    /// Address to bind (`127.0.0.1` keeps the API local; `0.0.0.0` exposes it).
    public var host: String
    /// Port to bind; 0 picks a free one (tests).
    public var port: Int
    /// Largest accepted request body, in bytes; larger bodies get 413.
    public var maxBodyBytes: Int
    /// Level of the one-line-per-request log.
    public var requestLogLevel: Logger.Level
    /// How often expired downloads are swept.
    public var sweepInterval: Duration
    /// Whether the session cookie is marked `Secure` (set when a TLS proxy fronts the server).
    public var secureCookies: Bool
    /// Largest accepted URL-list upload (`POST /v1/lists`), in bytes; larger uploads get 413.
    public var maxListBytes: Int64
    /// Local directory uploads are received into before they are staged; a partial upload is removed from it.
    public var uploadDirectory: URL

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20, requestLogLevel: Logger.Level = .info,
        sweepInterval: Duration = .seconds(300), secureCookies: Bool = false,
        maxListBytes: Int64 = 1 << 30, uploadDirectory: URL = FileManager.default.temporaryDirectory
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.requestLogLevel = requestLogLevel
        self.sweepInterval = sweepInterval
        self.secureCookies = secureCookies
        self.maxListBytes = maxListBytes
        self.uploadDirectory = uploadDirectory
    }
}
