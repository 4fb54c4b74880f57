import ArgumentParser
import PixCore

/// `pixcrawl`: turns keywords into validated, exportable image datasets.
@main
struct PixCrawl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixcrawl",
        abstract: "Crawl, validate and export image datasets, on one machine or many.",
        discussion: """
            The embedded SQLite store (storage/pixcrawl.sqlite) is used unless PIXCRAWL_DATABASE_URL names a \
            PostgreSQL server (postgres://…), which lets workers on many machines share one crawl.

            Start with:  pixcrawl crawl "red fox" --max-images 100 --source demo
            """,
        version: PixCrawlVersion.current,
        subcommands: [
            Migrate.self, Project.self, Crawl.self, Worker.self, Status.self, Job.self, Workers.self, Validate.self,
            Export.self, Download.self, Serve.self, Stats.self, GC.self, MigrateStore.self, Backup.self, User.self,
            Token.self, Fsck.self,
        ])
}
