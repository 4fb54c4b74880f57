import Dispatch
import Foundation
import PixBlob
import PixCore
import PixValidate
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One image to write, with its place in the export.
struct PlannedImage: Sendable {
    var image: ImageRecord
    /// 0-based position among the exported images; names the entry.
    var position: Int
    var split: DatasetSplit?
}

/// The blocking half of an export: the writers of one archive (or WebDataset, or manifest), fed batches of
/// images whose blobs it streams from the blob store.
///
/// Everything it holds is created, used and released through one ``BlockingPool`` of one thread, one call at a time.
/// Until ``finish()`` publishes the archive, nothing is visible under its name; ``cancel()``, a thrown error and
/// releasing the pipeline remove every temporary file.
// @unchecked Sendable: only used inside BlockingExecutor.run, whose serial queue runs one call at a time.
final class ExportPipeline: @unchecked Sendable {
    private enum Output {
        case archive(any ArchiveWriter)
        case webDataset(TarWriter, WebDatasetPacker)
        case manifest(ManifestWriter)
    }

    let destination: URL
    /// Images written so far.
    private(set) var writtenCount = 0
    /// Images left out because they could not be resized or re-encoded, with the reason.
    private(set) var skipped: [(imageID: Int64, reason: String)] = []

    private let format: ExportFormat
    private let layout: ExportLayout
    private let naming: ImageFolderNaming
    private let blobs: any BlobStore
    private let cancellation: StopFlag
    private let modified: Date
    private let workDirectory: URL?
    private let resize: ResizeOptions?
    /// The resize options are the crawl job's spec: images with a stored derivative are packed as they are.
    private let resizeMatchesDerivatives: Bool
    private var output: Output?
    private var csv: ManifestWriter?
    private var jsonl: ManifestWriter?
    private var attribution = AttributionBuilder()

    /// Begins the export's output: temporary archive next to `destination`, and a hidden work directory for the
    /// manifests (and shards) that go into it.
    /// - Parameters:
    ///   - format: What to write.
    ///   - destination: Where the archive appears when finished.
    ///   - layout: Where images go inside an archive.
    ///   - keywords: Every keyword of the selected images (for ImageFolder folder names).
    ///   - shardSize: Samples per WebDataset shard.
    ///   - blobs: Where the image files are.
    ///   - options: Block size and durability of the archive.
    ///   - modified: Modification time of the manifest entries.
    ///   - cancellation: Checked between images.
    ///   - resize: Resize and re-encode every image, or `nil` for the originals.
    ///   - derivativeSpec: The crawl job's resize spec: when it equals `resize`, each image's derivative made at
    ///     crawl time is packed as stored, with no decoding.
    init(
        format: ExportFormat, destination: URL, layout: ExportLayout, keywords: Set<String>, shardSize: Int,
        blobs: any BlobStore, options: ArchiveWriterOptions, modified: Date, cancellation: StopFlag,
        resize: ResizeOptions? = nil, derivativeSpec: ResizeOptions? = nil
    ) throws {
        self.resize = resize
        self.resizeMatchesDerivatives = resize != nil && resize == derivativeSpec
        self.format = format
        self.destination = destination
        self.layout = layout
        self.naming = ImageFolderNaming(keywords: keywords)
        self.blobs = blobs
        self.cancellation = cancellation
        self.modified = modified
        try FileManager.default.createDirectory(
            at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)

        if let manifestFormat = format.manifestFormat {
            workDirectory = nil
            output = .manifest(try ManifestWriter(destination: destination, format: manifestFormat, options: options))
            return
        }
        let work = POSIXFile.temporarySibling(of: destination, suffix: "work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: false)
        workDirectory = work
        do {
            let scratch = ArchiveWriterOptions(blockSize: 64 << 10, synchronizeOnFinish: false)
            csv = try ManifestWriter(
                destination: work.appendingPathComponent(ManifestWriter.Format.csv.fileName), format: .csv,
                options: scratch, resized: resize != nil)
            jsonl = try ManifestWriter(
                destination: work.appendingPathComponent(ManifestWriter.Format.jsonl.fileName), format: .jsonl,
                options: scratch, resized: resize != nil)
            if let archiveFormat = format.archiveFormat {
                output = .archive(try archiveFormat.makeWriter(destination: destination, options: options))
            } else {
                let outer = try TarWriter(destination: destination, options: options)
                let packer = WebDatasetPacker(
                    outer: outer, directory: work, samplesPerShard: shardSize, options: options, modified: modified)
                output = .webDataset(outer, packer)
            }
        } catch {
            cancel()
            throw error
        }
    }

    deinit {
        cancel()
    }

    /// The name of the image at `position`: `000000042_1234.jpg`.
    static func fileName(position: Int, image: ImageRecord, fileExtension: String? = nil) -> String {
        WebDatasetKey.make(position: position, imageID: image.id) + "." + (fileExtension ?? image.format.fileExtension)
    }

    /// The image's path inside the archive (for a manifest-only export: the path it would have).
    func entryPath(for planned: PlannedImage) throws -> String {
        let name = Self.fileName(
            position: planned.position, image: planned.image, fileExtension: resize?.encoding.fileExtension)
        switch (format, layout) {
        case (.webdataset, _): return name
        case (_, .flat): return "images/" + name
        case (_, .imagefolder): return try naming.path(for: name, keyword: planned.image.keyword, split: planned.split)
        }
    }

    /// Writes a batch of images, in order.
    func add(_ batch: [PlannedImage]) throws {
        do {
            let resized = try resize.map { try resizeAll(batch, options: $0) }
            for (index, planned) in batch.enumerated() {
                try cancellation.check()
                switch resized?[index] {
                case nil: try add(planned)
                case .success(let output): try add(planned, resized: output)
                case .failure(let error):
                    skipped.append((planned.image.id, error.message))
                    continue
                }
                writtenCount += 1
            }
        } catch {
            cancel()
            throw error
        }
    }

    /// Resizes a batch on every core; a blob that cannot be read fails the export, an image that cannot be
    /// resized is reported in its slot.
    private func resizeAll(_ batch: [PlannedImage], options: ResizeOptions) throws -> [Result<
        ResizedImage, ImageResizeError
    >] {
        typealias Slot = Result<Result<ResizedImage, ImageResizeError>, any Error>
        let slots = Mutex<[Slot?]>(Array(repeating: nil, count: batch.count))
        DispatchQueue.concurrentPerform(iterations: batch.count) { index in
            let image = batch[index].image
            let slot = Slot {
                // A stored copy that is missing or damaged is made again from the original: the same bytes.
                if resizeMatchesDerivatives, let derivative = image.derivative,
                    let stored = try? storedDerivative(derivative, of: image, encoding: options.encoding)
                {
                    return .success(stored)
                }
                let bytes: [UInt8] =
                    switch try blobContent(of: image) {
                    case .file(let url): [UInt8](try Data(contentsOf: url))
                    case .bytes(let bytes): bytes
                    }
                return Result { () throws(ImageResizeError) in
                    try ImageResizer.resize(bytes, format: image.format, options: options)
                }
            }
            slots.withLock { $0[index] = slot }
        }
        return try slots.withLock { $0 }.map { try $0!.get() }
    }

    private func add(_ planned: PlannedImage, resized: ResizedImage? = nil) throws {
        guard let output else { throw ExportError.writerClosed("export") }
        let image = planned.image
        var row = ManifestRow(image: image, path: try entryPath(for: planned), split: planned.split)
        if let resized {
            row.resized = resized.record
        }
        if case .manifest(let writer) = output {
            try writer.append(row)
            return
        }
        let content = try resized.map { BlobContent.bytes($0.bytes) } ?? blobContent(of: image)
        switch output {
        case .manifest: return
        case .archive(let writer):
            switch content {
            case .file(let url):
                try writer.addFile(path: row.path, from: url, size: image.fileSize, modified: image.createdAt)
            case .bytes(let bytes):
                try writer.addData(path: row.path, bytes: bytes, modified: image.createdAt)
            }
        case .webDataset(_, let packer):
            let sampleImage: WebDatasetSample.Image =
                switch content {
                case .file(let url): .file(url, size: image.fileSize)
                case .bytes(let bytes): .bytes(bytes)
                }
            let sample = WebDatasetSample(
                key: WebDatasetKey.make(position: planned.position, imageID: image.id), image: sampleImage,
                imageExtension: resize?.encoding.fileExtension ?? image.format.fileExtension,
                metadataJSON: row.jsonObject(), caption: row.caption ?? image.keyword, modified: image.createdAt)
            try packer.add(sample, prefix: planned.split?.rawValue ?? "shard")
        }
        try csv?.append(row)
        try jsonl?.append(row)
        attribution.add(row)
    }

    /// A derivative made at crawl time, from the blob store and the image row: checked against the row's size and
    /// SHA-256 (a copy damaged on disk is made again from the original by the caller).
    private func storedDerivative(_ derivative: ImageDerivative, of image: ImageRecord, encoding: ResizeEncoding)
        throws -> ResizedImage
    {
        let key = try blobKey(derivative.sha256, encoding.format, of: image, naming: "its derivative's SHA-256")
        let bytes = try blobBytes(key, size: derivative.byteCount, of: image)
        guard SHA256Hasher.hex(of: bytes) == derivative.sha256 else {
            throw ExportJobError.blobUnavailable(
                imageID: image.id, blob: key.path, reason: "its content does not hash to its SHA-256")
        }
        return ResizedImage(
            bytes: bytes, originalWidth: derivative.originalWidth, originalHeight: derivative.originalHeight,
            width: derivative.width, height: derivative.height, sha256: derivative.sha256)
    }

    private enum BlobContent {
        case file(URL)
        case bytes([UInt8])
    }

    /// Where an image's bytes are: a local file for ``LocalBlobStore``, the bytes otherwise (one image at a time).
    /// Checks the stored size against the image row before anything is written.
    private func blobContent(of image: ImageRecord) throws -> BlobContent {
        let key = try blobKey(image.sha256, image.format, of: image, naming: "its SHA-256")
        if let local = blobs as? LocalBlobStore {
            let url = local.fileURL(for: key)
            var info = stat()
            guard stat(url.path, &info) == 0 else {
                throw ExportJobError.blobUnavailable(
                    imageID: image.id, blob: key.path, reason: String(cString: strerror(errno)))
            }
            guard (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) == image.fileSize else {
                throw ExportJobError.blobUnavailable(
                    imageID: image.id, blob: key.path,
                    reason: "it has \(info.st_size) bytes where the image row says \(image.fileSize)")
            }
            return .file(url)
        }
        return .bytes(try blobBytes(key, size: image.fileSize, of: image))
    }

    /// The blob address of `sha256` in `format`; an invalid digest fails the export naming `image`.
    private func blobKey(_ sha256: String, _ format: ImageFormat, of image: ImageRecord, naming digest: String) throws
        -> BlobKey
    {
        do {
            return try BlobKey(sha256: sha256, format: format)
        } catch {
            throw ExportJobError.blobUnavailable(imageID: image.id, blob: sha256, reason: "\(digest) is not a valid blob key")
        }
    }

    /// A blob's bytes from the blob store, checked against the `size` the image row records.
    private func blobBytes(_ key: BlobKey, size: Int, of image: ImageRecord) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try blobs.get(key)
        } catch {
            throw ExportJobError.blobUnavailable(imageID: image.id, blob: key.path, reason: "\(error)")
        }
        guard bytes.count == size else {
            throw ExportJobError.blobUnavailable(
                imageID: image.id, blob: key.path, reason: "it has \(bytes.count) bytes where the image row says \(size)")
        }
        return bytes
    }

    /// Adds the manifests and `ATTRIBUTION.md`, and publishes the archive under ``destination``.
    /// - Returns: The published archive's size and SHA-256; ``ArchiveSummary/entryCount`` counts images.
    func finish() throws -> ArchiveSummary {
        guard let output else { throw ExportError.writerClosed("export") }
        do {
            let summary: ArchiveSummary
            switch output {
            case .manifest(let writer):
                summary = try writer.finish()
            case .archive(let writer):
                try addManifests(to: writer)
                summary = try writer.finish()
            case .webDataset(let outer, let packer):
                try packer.finish()
                try addManifests(to: outer)
                summary = try outer.finish()
            }
            self.output = nil
            removeWorkDirectory()
            return ArchiveSummary(url: summary.url, size: summary.size, sha256: summary.sha256, entryCount: writtenCount)
        } catch {
            cancel()
            throw error
        }
    }

    private func addManifests(to writer: any ArchiveWriter) throws {
        for manifest in [csv, jsonl] {
            guard let manifest else { continue }
            let file = try manifest.finish()
            try writer.addFile(path: manifest.format.fileName, from: file.url, size: file.size, modified: modified)
        }
        csv = nil
        jsonl = nil
        try writer.addData(path: "ATTRIBUTION.md", bytes: Array(attribution.markdown().utf8), modified: modified)
    }

    /// Abandons the export: removes the temporary archive, shards and manifests. Does nothing after ``finish()``.
    func cancel() {
        switch output {
        case .manifest(let writer): writer.cancel()
        case .archive(let writer): writer.cancel()
        case .webDataset(let outer, let packer):
            packer.cancel()
            outer.cancel()
        case nil: break
        }
        output = nil
        csv?.cancel()
        jsonl?.cancel()
        csv = nil
        jsonl = nil
        removeWorkDirectory()
    }

    private func removeWorkDirectory() {
        if let workDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }
}
