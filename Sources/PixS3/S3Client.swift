import Crypto
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking client for one bucket of an S3-compatible object store (AWS S3, MinIO, R2, moto), built on
/// libcurl with its built-in SigV4 signing (`CURLOPT_AWS_SIGV4`).
///
/// Keys are full object keys within the bucket; the location's prefix is not applied here (``S3BlobStore``
/// applies it). Every call blocks its thread until the server answers: call it from a thread that may block.
/// The client is thread-safe: each call borrows its own libcurl handle from a small pool, so calls on several
/// threads run in parallel and reuse open connections.
///
/// Idempotent requests are retried with exponential backoff after a 5xx answer or a connection failure.
/// Failures are ``S3Error``s carrying the HTTP status, S3's error code and message, the bucket and the key,
/// never the secret key.
public final class S3Client: Sendable {
    /// The result of an upload.
    public struct PutResult: Sendable, Hashable {
        /// The stored object's entity tag, without quotes.
        public var etag: String
        /// Bytes uploaded.
        public var byteCount: Int64
        /// How many parts a multipart upload had; 0 for a single `PutObject`.
        public var partCount: Int
    }

    /// The bucket, endpoint and region this client talks to.
    public let location: S3Location
    /// The client's tunables.
    public let configuration: Configuration
    let transport: S3Transport
    private let signer: SigV4

    /// Creates a client.
    /// - Parameters:
    ///   - location: bucket, endpoint, region and addressing style (the prefix is not used by the client).
    ///   - credentials: the key pair requests are signed with.
    ///   - configuration: multipart, timeout and retry settings.
    ///   - logger: receives a debug line per request and a warning per retry (metadata `pixcrawl.s3.*`).
    public init(
        location: S3Location, credentials: S3Credentials, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "pixcrawl.s3")
    ) {
        self.location = location
        self.configuration = configuration
        transport = S3Transport(
            location: location, credentials: credentials, configuration: configuration,
            pool: CurlHandlePool(capacity: configuration.idleHandles), logger: logger)
        signer = SigV4(credentials: credentials, region: location.region, service: "s3")
    }

    // MARK: - Objects

    /// Uploads `bytes` as the object `key` (one `PutObject`, payload signed), replacing any object there.
    /// - Parameter contentType: the `Content-Type` the object is served with, when given.
    @discardableResult
    public func putObject(key: String, bytes: some ContiguousBytes, contentType: String? = nil) throws(S3Error)
        -> PutResult
    {
        try checkKey(key)
        return try typed(operation: "PutObject", key: key) {
            try bytes.withUnsafeBytes { buffer in
                var request = S3Request(operation: "PutObject", method: "PUT", key: key)
                request.body = .bytes(buffer)
                request.payloadHash = SigV4.sha256Hex(buffer)
                if let contentType { request.headers.append((name: "Content-Type", value: contentType)) }
                let response = try transport.perform(request)
                guard (200..<300).contains(response.status) else { throw httpError(response, request) }
                return PutResult(etag: S3XML.etag(response.headers["etag"]), byteCount: Int64(buffer.count), partCount: 0)
            }
        }
    }

    /// Uploads a local file as the object `key`, streaming it from disk; files larger than
    /// ``Configuration/multipartThreshold`` go up as a multipart upload (aborted on failure).
    /// - Parameter contentType: the `Content-Type` the object is served with, when given.
    @discardableResult
    public func putObject(key: String, file: URL, contentType: String? = nil) throws(S3Error) -> PutResult {
        try checkKey(key)
        return try typed(operation: "PutObject", key: key) {
            let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ioError("cannot open \(file.path)", operation: "PutObject", key: key) }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                throw ioError("cannot stat \(file.path)", operation: "PutObject", key: key)
            }
            let size = Int64(info.st_size)
            if size > configuration.multipartThreshold {
                return try multipartUpload(key: key, descriptor: descriptor, size: size, contentType: contentType)
            }
            var request = S3Request(operation: "PutObject", method: "PUT", key: key)
            request.body = .file(descriptor: descriptor, offset: 0, length: size)
            request.payloadHash = try payloadHash(descriptor, offset: 0, length: size, key: key)
            if let contentType { request.headers.append((name: "Content-Type", value: contentType)) }
            let response = try transport.perform(request)
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            return PutResult(etag: S3XML.etag(response.headers["etag"]), byteCount: size, partCount: 0)
        }
    }

    /// Downloads the object `key` into memory.
    /// - Throws: ``S3Error`` with status 404 and ``S3Error/s3Code`` `NoSuchKey` when there is none.
    public func getObject(key: String) throws(S3Error) -> [UInt8] {
        try checkKey(key)
        return try typed(operation: "GetObject", key: key) {
            let request = S3Request(operation: "GetObject", method: "GET", key: key)
            let response = try transport.perform(request)
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            return response.body
        }
    }

    /// Up to `count` bytes of the object `key` from `offset` (an HTTP `Range` request); fewer only at its end,
    /// none past it.
    /// - Throws: ``S3Error`` with status 404 and ``S3Error/s3Code`` `NoSuchKey` when there is none.
    public func getObject(key: String, offset: Int64, count: Int) throws(S3Error) -> [UInt8] {
        try checkKey(key)
        guard count > 0 else { return [] }
        return try typed(operation: "GetObject", key: key) {
            var request = S3Request(operation: "GetObject", method: "GET", key: key)
            request.headers.append((name: "Range", value: "bytes=\(offset)-\(offset + Int64(count) - 1)"))
            let response = try transport.perform(request)
            if response.status == 416 { return [] }
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            guard response.status == 206 else {
                // A server that ignores Range sends the whole object: keep the asked part.
                let start = Int(min(Int64(response.body.count), offset))
                return Array(response.body[start..<min(response.body.count, start + count)])
            }
            return Array(response.body.prefix(count))
        }
    }

    /// Downloads the object `key` into `file`: streamed into a temporary file beside it, flushed, then renamed
    /// over `file`, so `file` is either complete or untouched.
    /// - Returns: the number of bytes written.
    @discardableResult
    public func getObject(key: String, to file: URL) throws(S3Error) -> Int64 {
        try checkKey(key)
        return try typed(operation: "GetObject", key: key) {
            let directory = file.deletingLastPathComponent().path
            let temporary = "\(directory)/.\(file.lastPathComponent).s3-\(UInt64.random(in: .min ... .max))"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw ioError("cannot create a temporary file in \(directory)", operation: "GetObject", key: key)
            }
            var closed = false
            do {
                var request = S3Request(operation: "GetObject", method: "GET", key: key)
                request.sink = .file(descriptor: descriptor)
                let response = try transport.perform(request)
                guard (200..<300).contains(response.status) else { throw httpError(response, request) }
                var info = stat()
                guard fsync(descriptor) == 0, fstat(descriptor, &info) == 0 else {
                    throw ioError("cannot flush \(temporary)", operation: "GetObject", key: key)
                }
                close(descriptor)
                closed = true
                guard rename(temporary, file.path) == 0 else {
                    throw ioError("cannot rename the download to \(file.path)", operation: "GetObject", key: key)
                }
                return Int64(info.st_size)
            } catch {
                if !closed { close(descriptor) }
                unlink(temporary)
                throw error
            }
        }
    }

    /// Size, modification time and entity tag of the object `key`, or nil when there is none.
    public func headObject(key: String) throws(S3Error) -> ObjectInfo? {
        try checkKey(key)
        return try typed(operation: "HeadObject", key: key) {
            let request = S3Request(operation: "HeadObject", method: "HEAD", key: key)
            let response = try transport.perform(request)
            if response.status == 404 { return nil }
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            guard let length = response.headers["content-length"].flatMap({ Int64($0) }) else {
                throw S3Error(
                    code: .invalidResponse, message: "HeadObject answered without a Content-Length",
                    operation: "HeadObject", bucket: location.bucket, key: key)
            }
            let modified = response.headers["last-modified"].flatMap { CivilTime.parseHTTPDate($0) }
            return ObjectInfo(
                key: key, size: length, lastModified: modified ?? Date(timeIntervalSince1970: 0),
                etag: S3XML.etag(response.headers["etag"]))
        }
    }

    /// Copies the object `key` onto itself with its metadata replaced (`CopyObject` with
    /// `x-amz-metadata-directive: REPLACE`, which S3 allows for a copy onto the same key): the content stays and
    /// `LastModified` becomes now, as `touch` does for a file.
    /// - Parameter contentType: the `Content-Type` the object keeps being served with.
    /// - Returns: false when there is no object `key`.
    public func refreshObject(key: String, contentType: String? = nil) throws(S3Error) -> Bool {
        try checkKey(key)
        return try typed(operation: "CopyObject", key: key) {
            var request = S3Request(operation: "CopyObject", method: "PUT", key: key)
            let source =
                "/" + SigV4.uriEncode(location.bucket, encodingSlash: true) + "/"
                + SigV4.uriEncode(key, encodingSlash: false)
            request.headers.append((name: "x-amz-copy-source", value: source))
            request.headers.append((name: "x-amz-metadata-directive", value: "REPLACE"))
            if let contentType { request.headers.append((name: "Content-Type", value: contentType)) }
            let response = try transport.perform(request)
            if response.status == 404 { return false }
            // CopyObject may fail after answering 200: the error is then the body.
            guard (200..<300).contains(response.status), !response.bodyText.contains("<Error>") else {
                throw httpError(response, request)
            }
            return true
        }
    }

    /// Deletes the object `key`.
    /// - Returns: whether it existed (S3 answers `DeleteObject` alike either way, so this asks `HeadObject` first).
    @discardableResult
    public func deleteObject(key: String) throws(S3Error) -> Bool {
        guard try headObject(key: key) != nil else { return false }
        return try typed(operation: "DeleteObject", key: key) {
            let request = S3Request(operation: "DeleteObject", method: "DELETE", key: key)
            let response = try transport.perform(request)
            if response.status == 404 { return false }
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            return true
        }
    }

    /// Calls `body` with every object whose key starts with `prefix`, in key order, one `ListObjectsV2`
    /// page at a time (following continuation tokens).
    /// - Parameters:
    ///   - prefix: a key prefix; empty lists the whole bucket.
    ///   - pageSize: keys per page, 1…1000.
    ///   - body: called per object; an error it throws stops the listing and is rethrown.
    public func listObjects(prefix: String, pageSize: Int = 1000, _ body: (ObjectInfo) throws -> Void) throws {
        var token: String?
        repeat {
            var request = S3Request(operation: "ListObjectsV2", method: "GET", key: nil)
            request.query = [
                (name: "list-type", value: "2"), (name: "encoding-type", value: "url"),
                (name: "max-keys", value: String(min(1000, max(1, pageSize)))),
            ]
            if !prefix.isEmpty { request.query.append((name: "prefix", value: prefix)) }
            if let token { request.query.append((name: "continuation-token", value: token)) }
            let response = try transport.perform(request)
            guard (200..<300).contains(response.status) else { throw httpError(response, request) }
            let page = try S3ListPage(parsing: response.bodyText, bucket: location.bucket)
            for object in page.objects { try body(object) }
            token = page.continuationToken
        } while token != nil
    }

    // MARK: - Bucket

    /// Creates the bucket (with a `LocationConstraint` outside us-east-1).
    /// - Returns: false when the bucket already existed and belongs to these credentials.
    @discardableResult
    public func createBucket() throws(S3Error) -> Bool {
        try typed(operation: "CreateBucket", key: nil) {
            var request = S3Request(operation: "CreateBucket", method: "PUT", key: nil)
            let configuration =
                location.region == "us-east-1"
                ? []
                : Array(
                    ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        + "<LocationConstraint>\(S3XML.escape(location.region))</LocationConstraint>"
                        + "</CreateBucketConfiguration>").utf8)
            return try configuration.withUnsafeBytes { buffer in
                request.body = .bytes(buffer)
                request.payloadHash = SigV4.sha256Hex(buffer)
                let response = try transport.perform(request)
                if (200..<300).contains(response.status) { return true }
                if S3XML.text("Code", in: response.bodyText) == "BucketAlreadyOwnedByYou" { return false }
                throw httpError(response, request)
            }
        }
    }

    // MARK: - URLs

    /// The request URL of the object `key` (unsigned): what a public-read bucket serves it at.
    public func objectURL(key: String) -> String {
        transport.origin + transport.path(forKey: key)
    }

    /// A presigned GET URL for the object `key`, signed in its query string with
    /// `X-Amz-SignedHeaders=host` and `UNSIGNED-PAYLOAD`: anyone holding it may download the object until
    /// `now + expiresIn`, without credentials.
    /// - Parameters:
    ///   - expiresIn: lifetime in seconds, 1…604800 (7 days).
    ///   - now: the signing time.
    /// - Throws: ``S3Error/Code/invalidArgument`` for an expiry out of range or an invalid key.
    public func presignedGetURL(key: String, expiresIn: Int, now: Date = Date()) throws(S3Error) -> String {
        try checkKey(key)
        let path = transport.path(forKey: key)
        let request = SigV4.Request(
            method: "GET", host: transport.hostHeader, path: path, payloadHash: SigV4.unsignedPayload)
        let signature = try signer.presign(request, expiresIn: expiresIn, at: now)
        return "\(transport.origin)\(path)?\(signature.query)"
    }

    // MARK: - Internals

    /// Runs `body`, passing ``S3Error``s through and wrapping anything else.
    func typed<Result>(operation: String, key: String?, _ body: () throws -> Result) throws(S3Error) -> Result {
        do {
            return try body()
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(code: .io, message: "\(error)", operation: operation, bucket: location.bucket, key: key)
        }
    }

    func checkKey(_ key: String) throws(S3Error) {
        guard !key.isEmpty, key.utf8.count <= 1024 else {
            throw S3Error(
                code: .invalidArgument, message: "an object key is 1 to 1024 bytes of UTF-8", bucket: location.bucket,
                key: key)
        }
    }

    /// Maps an error answer to an ``S3Error`` with the status, S3's `Code` and `Message`, bucket and key.
    func httpError(_ response: S3Response, _ request: S3Request) -> S3Error {
        let xml = response.bodyText
        var code = S3XML.text("Code", in: xml)
        var message = S3XML.text("Message", in: xml)
        if code == nil {
            // HEAD answers (and some proxies) carry no XML body.
            switch response.status {
            case 301, 307:
                code = "PermanentRedirect"
                message = "the bucket is served by another endpoint or region"
            case 403:
                code = "AccessDenied"
                message = "access denied: check the credentials, the region and the bucket's policy"
            case 404: code = "NotFound"
            default: break
            }
        }
        var text = message ?? "HTTP \(response.status)"
        if let region = response.headers["x-amz-bucket-region"], region != location.region {
            text += " (the bucket is in region \(region), not \(location.region))"
        }
        return S3Error(
            code: .http, message: text, operation: request.operation, bucket: location.bucket, key: request.key,
            status: response.status, s3Code: code)
    }

    func ioError(_ what: String, operation: String, key: String?) -> S3Error {
        S3Error(
            code: .io, message: "\(what): \(String(cString: strerror(errno)))", operation: operation,
            bucket: location.bucket, key: key)
    }

    /// The `x-amz-content-sha256` for a file range: its SHA-256, or `UNSIGNED-PAYLOAD` when so configured.
    func payloadHash(_ descriptor: Int32, offset: Int64, length: Int64, key: String) throws -> String {
        guard configuration.signsFilePayloads else { return SigV4.unsignedPayload }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < length {
            let wanted = Int(min(Int64(buffer.count), length - done))
            let count = pread(descriptor, buffer.baseAddress, wanted, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw count < 0
                    ? ioError("cannot read the upload", operation: "PutObject", key: key)
                    : S3Error(
                        code: .io, message: "the upload file is shorter than it was", operation: "PutObject",
                        bucket: location.bucket, key: key)
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            done += Int64(count)
        }
        return SigV4.hex(hasher.finalize())
    }
}
