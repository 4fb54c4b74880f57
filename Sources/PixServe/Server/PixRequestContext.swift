import Foundation
import Hummingbird
import PixCore
import PixStore

/// Who is calling: the profile behind the request's token.
public struct Caller: Sendable, Hashable {
    /// The authenticated profile.
    public var profile: Profile
    /// The token that authenticated the request.
    public var token: APIToken

    /// Admins see every owner's resources.
    public var isAdmin: Bool { profile.role == .admin }

    /// True when the caller may see a resource owned by `owner`.
    public func mayAccess(ownedBy owner: UUID) -> Bool { isAdmin || profile.id == owner }
}

/// The request context of every PixCrawler route: Hummingbird's core storage plus the caller, which the
/// authentication middleware fills in.
public struct PixRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; set on every route under `/v1`.
    public var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
    }

    /// The caller, or 401 when the route was reached without authentication.
    public func requireCaller() throws -> Caller {
        guard let caller else { throw APIError.unauthorized("send Authorization: Bearer <token>") }
        return caller
    }
}
