import Crypto
import Foundation
import Logging
import PixBlob
import PixCore
import PixDemo
import PixExport
import PixFixtures
import PixStore
import PixTestSupport
import PixValidate

/// One image to put into a test crawl job.
struct ImageSpec {
    var seed: UInt64
    var keyword = "red fox"
    var width = 32
    var height = 24
    var format = ImageFormat.jpeg
    var dhash: UInt64?
    var license: String? = "by-sa"
    var licenseVersion: String? = "4.0"
    var creator: String? = "Zoë \"quoted\", photographer"
    /// The stored bytes, when not the generated picture (a damaged file, a WebP).
    var bytes: [UInt8]?
}

/// A migrated store with a profile, project and crawl job, a blob store under a temporary directory, and an
/// exports directory next to it.
final class ExportJobFixture {
    let store: SQLCrawlStore
    let directory: TemporaryDirectory
    let blobs: LocalBlobStore
    let job: CrawlJob
    let exportsDirectory: URL

    /// - Parameter resize: The job's resize spec: ``addImages(_:)`` then gives each image its derivative, made and
    ///   stored as a crawl worker does.
    init(_ backend: Backend, keywords: [String] = ["red fox", "arctic fox"], resize: ResizeOptions? = nil) async throws {
        store = try await TestStores.make(backend)
        directory = try TemporaryDirectory()
        blobs = LocalBlobStore(root: directory.url.appendingPathComponent("storage"))
        exportsDirectory = directory.url.appendingPathComponent("storage/exports", isDirectory: true)
        let profile = try await store.createProfile(NewProfile(email: "export-\(UUID().uuidString.prefix(8))@example.com"))
        let project = try await store.createProject(NewProject(name: "Foxes", userID: profile.id))
        job = try await store.createJob(
            NewCrawlJob(
                projectID: project.id, name: "foxes", keywords: keywords, maxImages: 1000, sources: ["demo"],
                resize: resize),
            chunks: [])
    }

    deinit {
        store.close()
    }

    /// Encodes each image, stores its blob and inserts its row; returns the rows in id order.
    @discardableResult
    func addImages(_ specs: [ImageSpec]) async throws -> [ImageRecord] {
        var rows: [NewImage] = []
        for spec in specs {
            let bytes =
                spec.bytes
                ?? (spec.format == .png
                    ? FixtureImages.png(seed: spec.seed, width: spec.width, height: spec.height)
                    : FixtureImages.jpeg(seed: spec.seed, width: spec.width, height: spec.height))
            let sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            let stored = try blobs.put(bytes, for: try BlobKey(sha256: sha256, format: spec.format))
            var derivative: ImageDerivative?
            if let resize = job.resize {
                let resized = try ImageResizer.resize(bytes, format: spec.format, options: resize, validating: true)
                _ = try blobs.put(resized.bytes, for: try BlobKey(sha256: resized.sha256, format: resize.encoding.format))
                derivative = ImageDerivative(
                    sha256: resized.sha256, byteCount: resized.bytes.count, width: resized.width, height: resized.height,
                    originalWidth: resized.originalWidth, originalHeight: resized.originalHeight)
            }
            rows.append(
                NewImage(
                    originalURL: "http://127.0.0.1/img/\(spec.seed).\(spec.format.fileExtension)",
                    filename: "\(spec.seed).\(spec.format.fileExtension)", storageURL: stored.storageURL,
                    width: spec.width, height: spec.height, fileSize: bytes.count, format: spec.format,
                    sha256: sha256, perceptualHash: spec.dhash ?? (spec.seed &* 0x9E37_79B9_7F4A_7C15),
                    keyword: spec.keyword, source: "demo", license: spec.license, licenseVersion: spec.licenseVersion,
                    creator: spec.creator, landingURL: "http://127.0.0.1/page/\(spec.seed)", title: "image \(spec.seed)",
                    derivative: derivative))
        }
        _ = try await store.insertImages(jobID: job.id, images: rows)
        return try await allImages()
    }

    /// Every image row of the job, in id order.
    func allImages() async throws -> [ImageRecord] {
        try await store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 100_000)
    }

    func runner(pageSize: Int = 3, blobs: (any BlobStore)? = nil) -> ExportJobRunner {
        var logger = Logger(label: "pixcrawl.export.test")
        logger.logLevel = .critical
        return ExportJobRunner(
            store: store, blobs: blobs ?? self.blobs,
            configuration: .init(
                exportsDirectory: exportsDirectory, workerID: "test-worker", pageSize: pageSize,
                writerOptions: ArchiveWriterOptions(blockSize: 64 << 10, synchronizeOnFinish: false)),
            logger: logger)
    }

    /// Queues and runs an export in this process.
    func export(_ format: ExportFormat, _ options: ExportOptions = ExportOptions(), pageSize: Int = 3) async throws
        -> ExportOutcome
    {
        let runner = runner(pageSize: pageSize)
        let queued = try await runner.enqueue(crawlJobID: job.id, format: format, options: options)
        return try await runner.run(exportID: queued.id)
    }

    /// Every file and directory under the exports directory, hidden ones included, relative to it.
    func exportsContents() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: exportsDirectory.path) else { return [] }
        return (enumerator.allObjects as? [String] ?? []).sorted()
    }

    /// Runs raw SQL against the store (for reading what is stored, and for moving expiry times into the past).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await store.database.withConnection { connection in try connection.query(sql, binds) }
    }

    /// SQL for "one hour ago" in the store's dialect.
    var anHourAgo: String {
        store.dialect == .postgres ? "(now() - interval '1 hour')" : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')"
    }
}

/// What Python's zipfile/tarfile see in an archive: every member's name, size and SHA-256, and the manifests.
struct ArchiveListing: Decodable {
    struct Entry: Decodable {
        var name: String
        var size: Int
        var sha256: String
    }

    var entries: [Entry]
    var csvRows: [[String: String]]
    var jsonlRows: [[String: JSONValue]]
    var attribution: String?
    var archiveSHA256: String
    var archiveSize: Int

    func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}

extension JSONValue {
    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self { return Int(value) }
        return nil
    }
}

enum ArchiveReader {
    private static let script = """
        import csv, hashlib, io, json, os, sys, tarfile, zipfile
        path = sys.argv[1]
        members = {}
        entries = []
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if archive.testzip() is not None:
                    raise SystemExit("bad CRC in " + archive.testzip())
                for info in archive.infolist():
                    data = archive.read(info)
                    members[info.filename] = data
                    entries.append({"name": info.filename, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        elif path.endswith(".csv") or path.endswith(".jsonl"):
            data = open(path, "rb").read()
            members[os.path.basename(path).replace("export", "manifest", 1)] = data
        else:
            with tarfile.open(path, "r:*") as archive:
                for info in archive.getmembers():
                    data = archive.extractfile(info).read()
                    members[info.name] = data
                    entries.append({"name": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        csv_rows, jsonl_rows = [], []
        for name, data in members.items():
            if name.endswith(".csv"):
                csv_rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
            elif name.endswith(".jsonl"):
                jsonl_rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
        attribution = members.get("ATTRIBUTION.md")
        print(json.dumps({
            "entries": entries, "csvRows": csv_rows, "jsonlRows": jsonl_rows,
            "attribution": attribution.decode("utf-8") if attribution is not None else None,
            "archiveSHA256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "archiveSize": os.path.getsize(path)}))
        """

    /// Opens a zip, tar, tar.gz or manifest file with Python's standard library.
    static func read(_ url: URL) throws -> ArchiveListing {
        try ExternalTools.python(script, [url.path], as: ArchiveListing.self)
    }
}

/// A WebDataset export read back the way `webdataset` loaders do: shard by shard, members grouped into samples by
/// the part of their name before the first dot.
struct WebDatasetListing: Decodable {
    struct Sample: Decodable {
        var key: String
        var shard: String
        /// Member extension → SHA-256 of its bytes.
        var sha256: [String: String]
        var json: [String: JSONValue]
        var txt: String
    }

    struct IndexShard: Decodable {
        var url: String
        var nsamples: Int
        var sha256: String
    }

    var outerEntries: [String]
    var samples: [Sample]
    /// Shard file name → SHA-256 of its bytes.
    var shardSHA256: [String: String]
    /// Index file name → its shards.
    var indexes: [String: [IndexShard]]
    var manifestRows: Int

    static let script = """
        import hashlib, io, json, sys, tarfile
        samples, shard_sha, indexes, outer_entries, manifest_rows = [], {}, {}, [], 0
        with tarfile.open(sys.argv[1], "r:") as outer:
            for info in outer.getmembers():
                outer_entries.append(info.name)
                data = outer.extractfile(info).read()
                if info.name.endswith(".tar"):
                    shard_sha[info.name] = hashlib.sha256(data).hexdigest()
                    groups, order = {}, []
                    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as shard:
                        for member in shard.getmembers():
                            key, ext = member.name.split(".", 1)
                            if key not in groups:
                                groups[key] = {}
                                order.append(key)
                            groups[key][ext] = shard.extractfile(member).read()
                    for key in order:
                        files = groups[key]
                        samples.append({
                            "key": key, "shard": info.name,
                            "sha256": {ext: hashlib.sha256(blob).hexdigest() for ext, blob in files.items()},
                            "json": json.loads(files["json"]), "txt": files["txt"].decode("utf-8")})
                elif info.name.endswith("-index.json"):
                    index = json.loads(data)
                    indexes[info.name] = [{"url": s["url"], "nsamples": s["nsamples"], "sha256": s["sha256"]}
                                          for s in index["shardlist"]]
                elif info.name == "manifest.jsonl":
                    manifest_rows = len([line for line in data.decode("utf-8").splitlines() if line])
        print(json.dumps({"outerEntries": outer_entries, "samples": samples, "shardSHA256": shard_sha,
                          "indexes": indexes, "manifestRows": manifest_rows}))
        """

    static func read(_ url: URL) throws -> WebDatasetListing {
        try ExternalTools.python(script, [url.path], as: WebDatasetListing.self)
    }
}
