import Foundation
import PixCore
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("Authentication and tokens")
struct AuthTests {
    @Test("generated tokens carry 256 random bits and only their SHA-256 is kept")
    func tokenShape() {
        let first = APITokenGenerator.generate()
        let second = APITokenGenerator.generate()
        #expect(first.token.hasPrefix("pxc_"))
        #expect(first.token.count == 4 + 43)
        #expect(first.token != second.token)
        #expect(first.hash == APITokenGenerator.hash(first.token))
        #expect(first.hash.count == 64)
        #expect(!first.hash.contains(first.token.dropFirst(4)))
        #expect(first.prefix == String(first.token.prefix(12)))
        #expect(APITokenGenerator.isWellFormed(first.token))
        #expect(!APITokenGenerator.isWellFormed("pxc_short"))
        #expect(!APITokenGenerator.isWellFormed(first.token.replacingOccurrences(of: "pxc_", with: "abc_")))
    }

    @Test("constant-time comparison still compares")
    func constantTime() {
        #expect(APITokenGenerator.constantTimeEquals("abcdef", "abcdef"))
        #expect(!APITokenGenerator.constantTimeEquals("abcdef", "abcdeg"))
        #expect(!APITokenGenerator.constantTimeEquals("abc", "abcd"))
    }

    @Test("missing, malformed, unknown and revoked tokens get 401 JSON", arguments: Backend.allCases)
    func unauthorized(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let missing = try await server.client.get("/v1/me")
            #expect(missing.status == 401)
            #expect(missing.json["error"] as? String == "unauthorized")
            #expect(missing.json.keys.contains("field"))
            #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer") == true)

            let malformed = try await server.client.get("/v1/me", headers: ["Authorization": "Bearer nope"])
            #expect(malformed.status == 401)
            let basic = try await server.client.get("/v1/me", headers: ["Authorization": "Basic YWxpY2U6cHc="])
            #expect(basic.status == 401)
            let unknown = try await server.client.get("/v1/me", token: APITokenGenerator.generate().token)
            #expect(unknown.status == 401)
            #expect(unknown.json["reason"] as? String == "the token is invalid or has been revoked")

            // A second token created over the API, then revoked: 401 from then on.
            let created = try await server.post("/v1/tokens", as: alice, json: ["name": "laptop"])
            #expect(created.status == 201)
            let secret = try #require(created.json["token"] as? String)
            let tokenID = try #require((created.json["api_token"] as? [String: Any])?["id"] as? Int)
            #expect(try await server.client.get("/v1/me", token: secret).status == 200)
            let listed = try await server.get("/v1/tokens", as: alice)
            #expect(listed.items.count == 2)
            #expect(!listed.text.contains(secret), "a token list never contains a secret")
            #expect(listed.items.contains { $0["last_used_at"] is String }, "use is recorded")

            #expect(try await server.delete("/v1/tokens/\(tokenID)", as: alice).status == 204)
            let revoked = try await server.client.get("/v1/me", token: secret)
            #expect(revoked.status == 401)
            #expect(try await server.get("/v1/me", as: alice).status == 200, "other tokens keep working")

            let activity = try await server.get("/v1/activity", as: alice)
            let actions = activity.items.compactMap { $0["action"] as? String }
            #expect(actions.contains("token.created"))
            #expect(actions.contains("token.revoked"))
        }
    }

    @Test("the session cookie authenticates like a bearer token", arguments: [Backend.sqlite])
    func cookie(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let me = try await server.client.get("/v1/me", headers: ["Cookie": "\(Authenticator.cookieName)=\(alice.token)"])
            #expect(me.status == 200)
            #expect(me.json["email"] as? String == alice.profile.email)
        }
    }
}
