import ArgumentParser
import Foundation
import PixCore
import PixStore

/// The e-mail of the profile local commands act as when no one is signed in.
let localProfileEmail = "local@localhost"

/// The local profile, created on first use.
func localProfile(_ store: SQLCrawlStore) async throws -> Profile {
    if let profile = try await store.profile(email: localProfileEmail) { return profile }
    do {
        return try await store.createProfile(NewProfile(email: localProfileEmail, fullName: "Local user"))
    } catch let error as StoreError where error.isUniqueViolation {
        // Another process created it at the same moment.
        guard let profile = try await store.profile(email: localProfileEmail) else { throw error }
        return profile
    }
}

/// The owner's active project called `name`, created when there is none.
func findOrCreateProject(named name: String, owner: Profile, in store: SQLCrawlStore) async throws -> PixCore.Project {
    let wanted = name.trimmingCharacters(in: .whitespacesAndNewlines)
    if let found = try await store.listProjects(ownerID: owner.id).first(where: {
        $0.name == wanted && $0.status == .active
    }) {
        return found
    }
    return try await store.createProject(NewProject(name: wanted, userID: owner.id))
}

extension PixCrawl {
    /// `pixcrawl project create|list|delete`.
    struct Project: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "project", abstract: "Manage crawl projects.",
            subcommands: [Create.self, List.self, Delete.self], defaultSubcommand: List.self)

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a project.")

            @OptionGroup var store: StoreOptions

            @Argument(help: "The project's name (1–100 characters).")
            var name: String

            @Option(help: "A description.")
            var description: String?

            func run() async throws {
                try await reportingErrors {
                    let crawlStore = try await store.openStore(migrate: true)
                    defer { crawlStore.close() }
                    let owner = try await localProfile(crawlStore)
                    let created = try await crawlStore.createProject(
                        NewProject(name: name, description: description, userID: owner.id))
                    try await crawlStore.logActivity(
                        NewActivity(
                            userID: owner.id, action: "project.created", resourceType: "project",
                            resourceID: "\(created.id)", metadata: ["name": created.name]))
                    print("project \(created.id) \"\(created.name)\" created")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List projects.")

            @OptionGroup var store: StoreOptions

            func run() async throws {
                try await reportingErrors {
                    let crawlStore = try await store.openStore(migrate: false)
                    defer { crawlStore.close() }
                    let projects = try await crawlStore.listProjects(ownerID: nil)
                    if projects.isEmpty {
                        print("no projects yet (pixcrawl project create NAME, or pixcrawl crawl … creates one)")
                        return
                    }
                    print("ID    STATUS    JOBS  NAME")
                    for project in projects {
                        let jobs = try await crawlStore.listJobs(
                            projectID: project.id, status: nil, limit: 10_000, offset: 0
                        ).count
                        print(
                            String(format: "%-5lld %-9@ %4d  ", project.id, project.status.rawValue as NSString, jobs)
                                + project.name)
                    }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a project with its jobs, chunks and image rows (stored files stay until gc).")

            @OptionGroup var store: StoreOptions

            @Argument(help: "The project id.")
            var id: Int64

            func run() async throws {
                try await reportingErrors {
                    let crawlStore = try await store.openStore(migrate: false)
                    defer { crawlStore.close() }
                    guard try await crawlStore.deleteProject(id: id) else { throw CLIError("project \(id) not found") }
                    let owner = try await localProfile(crawlStore)
                    try await crawlStore.logActivity(
                        NewActivity(
                            userID: owner.id, action: "project.deleted", resourceType: "project", resourceID: "\(id)"))
                    print("project \(id) deleted")
                }
            }
        }
    }
}
