import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PixCore
import PixStore

/// Finds the caller of a request from its bearer token (or the dashboard's session cookie).
///
/// Only the token's SHA-256 reaches the store, which looks it up through a unique index; the secret
/// itself is never stored, logged or compared.
public struct Authenticator: Sendable {
    /// The cookie the dashboard keeps the token in (HttpOnly, SameSite=Strict).
    public static let cookieName = "pixcrawl_session"

    let store: any CrawlStore

    /// - Parameter store: where tokens and profiles live.
    public init(store: any CrawlStore) {
        self.store = store
    }

    /// The token a request carries: `Authorization: Bearer …` first, then the session cookie.
    static func presentedToken(_ request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
            return ""
        }
        return request.cookies[cookieName]?.value
    }

    /// The caller behind `token`, or `nil` for an unknown, revoked or malformed token.
    public func caller(token: String) async throws -> Caller? {
        guard APITokenGenerator.isWellFormed(token) else { return nil }
        guard let (profile, apiToken) = try await store.authenticate(tokenHash: APITokenGenerator.hash(token)) else {
            return nil
        }
        return Caller(profile: profile, token: apiToken)
    }

    /// The caller of `request`.
    /// - Throws: ``APIError`` 401 when no token is presented or it is unknown or revoked.
    public func authenticate(_ request: Request) async throws -> Caller {
        guard let token = Self.presentedToken(request), !token.isEmpty else {
            throw APIError.unauthorized("missing token: send Authorization: Bearer <token>")
        }
        guard let caller = try await caller(token: token) else {
            throw APIError.unauthorized("the token is invalid or has been revoked")
        }
        return caller
    }

    /// The caller of `request`, or `nil` when it carries no valid token (the dashboard's sign-in page).
    public func optionalCaller(_ request: Request) async throws -> Caller? {
        guard let token = Self.presentedToken(request), !token.isEmpty else { return nil }
        return try await caller(token: token)
    }
}

/// Requires a valid token on every route it guards and puts the caller into the context.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = PixRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let caller = try await authenticator.authenticate(request)
        context.caller = caller
        context.logger[metadataKey: "pixcrawl.user"] = .string(caller.profile.id.uuidString)
        return try await next(request, context)
    }
}
