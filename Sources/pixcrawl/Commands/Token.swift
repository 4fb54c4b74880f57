import ArgumentParser
import Foundation
import PixCore
import PixStore

extension PixCrawl {
    /// `pixcrawl token`: a user's API tokens.
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "Create, list and revoke a user's API tokens.",
            subcommands: [Create.self, List.self, Revoke.self])

        /// Options naming the user.
        struct UserOption: ParsableArguments {
            @Option(help: "E-mail address of the token's user.")
            var email: String

            func profile(in store: any CrawlStore) async throws -> Profile {
                guard let profile = try await store.profile(email: email) else {
                    throw CLIError("no user with e-mail \(email); create one with `pixcrawl user create --email`")
                }
                return profile
            }
        }

        /// `pixcrawl token create`.
        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token and print it once (only its SHA-256 is stored).")

            @OptionGroup var store: StoreOptions
            @OptionGroup var user: UserOption

            @Option(help: "A name to tell the token apart (e.g. the machine using it).")
            var name = "cli"

            func run() async throws {
                try await reportingErrors {
                    let store = try await self.store.openStore(migrate: false)
                    defer { store.close() }
                    let token = try await issueToken(store: store, profile: try await user.profile(in: store), name: name)
                    FileHandle.standardError.write(Data("API token (shown once, keep it secret):\n".utf8))
                    print(token)
                }
            }
        }

        /// `pixcrawl token list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a user's tokens (never the secrets).")

            @OptionGroup var store: StoreOptions
            @OptionGroup var user: UserOption

            func run() async throws {
                try await reportingErrors {
                    let store = try await self.store.openStore(migrate: false)
                    defer { store.close() }
                    let tokens = try await store.listAPITokens(profileID: try await user.profile(in: store).id)
                    if tokens.isEmpty {
                        print("no tokens")
                        return
                    }
                    let format = ISO8601DateFormatter()
                    print("ID    PREFIX        STATE     LAST USED             NAME")
                    for token in tokens {
                        let state = token.revokedAt == nil ? "active" : "revoked"
                        let used = token.lastUsedAt.map { format.string(from: $0) } ?? "never"
                        print(
                            "\(String(token.id).padding(toLength: 5, withPad: " ", startingAt: 0)) "
                                + "\(token.prefix.padding(toLength: 13, withPad: " ", startingAt: 0)) "
                                + "\(state.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                                + "\(used.padding(toLength: 21, withPad: " ", startingAt: 0)) \(token.name)")
                    }
                }
            }
        }

        /// `pixcrawl token revoke`.
        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token by id (from `token list`).")

            @OptionGroup var store: StoreOptions
            @OptionGroup var user: UserOption

            @Argument(help: "The token's id.")
            var id: Int64

            func run() async throws {
                try await reportingErrors {
                    let store = try await self.store.openStore(migrate: false)
                    defer { store.close() }
                    let profile = try await user.profile(in: store)
                    guard try await store.revokeAPIToken(id: id, profileID: profile.id) else {
                        throw CLIError("no active token \(id) for \(profile.email)")
                    }
                    try await store.logActivity(
                        NewActivity(
                            userID: profile.id, action: "token.revoked", resourceType: "api_token", resourceID: "\(id)",
                            metadata: ["via": "cli"]))
                    print("revoked token \(id)")
                }
            }
        }
    }
}
