import Foundation
import Hummingbird
import PixCore
import PixStore

/// Body of `POST /v1/tokens`.
struct TokenRequest: Decodable, Sendable {
    var name: String
}

extension PixServer {
    /// `/v1/me`, `/v1/tokens`, `/v1/activity`, `/v1/workers`.
    func addAccountRoutes(to api: RouterGroup<PixRequestContext>) {
        api.get("me") { _, context in
            JSONResponse(value: try context.requireCaller().profile)
        }
        api.get("tokens") { _, context in
            let caller = try context.requireCaller()
            return JSONResponse(value: Page(items: try await store.listAPITokens(profileID: caller.profile.id), limit: 0))
        }
        api.post("tokens") { request, context in
            let caller = try context.requireCaller()
            let body = try await APIJSON.decode(TokenRequest.self, from: request, limit: configuration.maxBodyBytes)
            try APIBounds.check(body.name, APIBounds.tokenName, field: "name")
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let generated = APITokenGenerator.generate()
            let token = try await store.createAPIToken(
                profileID: caller.profile.id, name: name, tokenHash: generated.hash, prefix: generated.prefix)
            await audit(caller, "token.created", "api_token", "\(token.id)", ["name": name, "prefix": token.prefix])
            return JSONResponse(value: CreatedTokenView(token: generated.token, apiToken: token), status: .created)
        }
        api.delete("tokens/{id}") { _, context in
            let caller = try context.requireCaller()
            let id = try Self.pathID(context, "token")
            guard try await store.revokeAPIToken(id: id, profileID: caller.profile.id) else {
                throw APIError.notFound("token \(id)")
            }
            await audit(caller, "token.revoked", "api_token", "\(id)")
            return Response(status: .noContent)
        }
        api.get("activity") { request, context in
            let caller = try context.requireCaller()
            let limit = try APIBounds.activityLimit.value(in: request)
            return JSONResponse(
                value: Page(items: try await store.activity(userID: caller.profile.id, limit: limit), limit: limit))
        }
        api.get("workers") { _, context in
            let caller = try context.requireCaller()
            guard caller.isAdmin else { throw APIError.forbidden("listing workers needs the admin role") }
            return JSONResponse(value: Page(items: try await store.listWorkers(), limit: 0))
        }
    }
}
