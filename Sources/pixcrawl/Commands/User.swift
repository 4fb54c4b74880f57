import ArgumentParser
import Foundation
import PixCore
import PixServe
import PixStore

extension PixCrawl {
    /// `pixcrawl user`: create and list the profiles that use the API.
    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "Create and list API users.", subcommands: [Create.self, List.self])

        /// `pixcrawl user create`.
        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a user and print their first API token (shown once; only its SHA-256 is stored).")

            @OptionGroup var store: StoreOptions

            @Option(help: "The user's e-mail address (unique).")
            var email: String

            @Option(help: "Role: user, admin or moderator.")
            var role: ProfileRole = .user

            @Option(help: "Full name shown in the dashboard.")
            var name: String?

            @Option(help: "Name of the first token.")
            var tokenName = "default"

            func run() async throws {
                try await reportingErrors {
                    let store = try await self.store.openStore(migrate: false)
                    defer { store.close() }
                    if try await store.profile(email: email) != nil {
                        throw CLIError("a user with e-mail \(email) exists already; use `pixcrawl token create --email`")
                    }
                    let profile = try await store.createProfile(NewProfile(email: email, fullName: name, role: role))
                    let token = try await issueToken(store: store, profile: profile, name: tokenName)
                    FileHandle.standardError.write(
                        Data("created \(profile.role.rawValue) \(profile.email) (\(profile.id.uuidString.lowercased()))\n".utf8))
                    FileHandle.standardError.write(Data("API token (shown once, keep it secret):\n".utf8))
                    print(token)
                }
            }
        }

        /// `pixcrawl user list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List users.")

            @OptionGroup var store: StoreOptions

            func run() async throws {
                try await reportingErrors {
                    let store = try await self.store.openStore(migrate: false)
                    defer { store.close() }
                    let profiles = try await store.listProfiles()
                    if profiles.isEmpty {
                        print("no users yet: pixcrawl user create --email E")
                        return
                    }
                    for profile in profiles {
                        print(
                            "\(profile.id.uuidString.lowercased())  \(profile.role.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(profile.email)"
                        )
                    }
                }
            }
        }
    }
}

extension ProfileRole: ExpressibleByArgument {}

/// Creates an API token for `profile`, records the activity, and returns the secret.
func issueToken(store: any CrawlStore, profile: Profile, name: String) async throws -> String {
    let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard (1...200).contains(trimmed.count) else { throw CLIError("--name must be 1 to 200 characters") }
    let generated = APITokenGenerator.generate()
    let token = try await store.createAPIToken(
        profileID: profile.id, name: trimmed, tokenHash: generated.hash, prefix: generated.prefix)
    try await store.logActivity(
        NewActivity(
            userID: profile.id, action: "token.created", resourceType: "api_token", resourceID: "\(token.id)",
            metadata: ["name": trimmed, "prefix": token.prefix, "via": "cli"]))
    return generated.token
}
