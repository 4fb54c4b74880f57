import CCurl
import CPixCurl
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a request's body comes from.
enum RequestBody {
    case none
    /// Bytes that stay valid for the whole ``S3Transport/perform(_:)`` call.
    case bytes(UnsafeRawBufferPointer)
    /// `length` bytes of an open file from `offset` (read with `pread`, so the file position is untouched).
    case file(descriptor: Int32, offset: Int64, length: Int64)

    var length: Int64 {
        switch self {
        case .none: 0
        case .bytes(let buffer): Int64(buffer.count)
        case .file(_, _, let length): length
        }
    }
}

/// Where a successful response's body goes. Error bodies always go to memory.
enum ResponseSink {
    case memory
    /// An open, empty file; rewound and truncated before a retry.
    case file(descriptor: Int32)
}

/// One S3 API request, before signing (libcurl signs it).
struct S3Request {
    /// The S3 operation's name, for errors and logs (`GetObject`).
    var operation: String
    var method: String
    /// The object key, or nil for a bucket-level request.
    var key: String?
    /// Query parameters, not encoded.
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: RequestBody = .none
    /// Hex SHA-256 of the body or ``SigV4/unsignedPayload``; sent as `x-amz-content-sha256`.
    var payloadHash: String = SigV4.emptyPayloadHash
    var sink: ResponseSink = .memory
    /// Whether the request may be sent again after a 5xx answer or a lost connection.
    var idempotent: Bool = true
}

/// What the server answered.
struct S3Response {
    var status: Int
    /// Header names lowercased; the last value of a repeated header wins.
    var headers: [String: String]
    /// The body, unless it went to a file sink.
    var body: [UInt8]

    var bodyText: Substring { Substring(String(decoding: body, as: UTF8.self)) }
}

/// Sends ``S3Request``s with libcurl: builds the URL for the location's addressing style, lets libcurl sign
/// with `CURLOPT_AWS_SIGV4`, streams bodies through callbacks and retries what may be retried.
struct S3Transport: Sendable {
    let location: S3Location
    let credentials: S3Credentials
    let configuration: S3Client.Configuration
    let pool: CurlHandlePool
    let logger: Logger

    // MARK: URLs

    /// `scheme://authority` with the bucket in the host for virtual-host addressing.
    var origin: String {
        let endpoint = location.endpoint
        switch location.addressing {
        case .path: return "\(endpoint.scheme)://\(endpoint.authority)"
        case .virtualHost: return "\(endpoint.scheme)://\(location.bucket).\(endpoint.authority)"
        }
    }

    /// The `Host` header requests carry.
    var hostHeader: String {
        switch location.addressing {
        case .path: location.endpoint.authority
        case .virtualHost: "\(location.bucket).\(location.endpoint.authority)"
        }
    }

    /// The encoded request path: `/bucket/key` (path-style) or `/key` (virtual-host); `/bucket` or `/` for the
    /// bucket itself. Each key segment is percent-encoded, the slashes between them kept.
    func path(forKey key: String?) -> String {
        let encodedKey = key.map { SigV4.uriEncode($0, encodingSlash: false) }
        switch location.addressing {
        case .path: return encodedKey.map { "/\(location.bucket)/\($0)" } ?? "/\(location.bucket)"
        case .virtualHost: return "/" + (encodedKey ?? "")
        }
    }

    func url(for request: S3Request) -> String {
        let query = SigV4.canonicalQuery(request.query)
        return origin + path(forKey: request.key) + (query.isEmpty ? "" : "?\(query)")
    }

    // MARK: Sending

    /// Sends `request`, retrying idempotent ones after 5xx and 429 answers and connection failures.
    /// - Returns: the response, whatever its status (callers map statuses to errors).
    func perform(_ request: S3Request) throws -> S3Response {
        let attempts = request.idempotent ? max(1, configuration.maxAttempts) : 1
        var attempt = 1
        while true {
            if attempt > 1, case .file(let descriptor) = request.sink {
                guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
                    throw S3Error(
                        code: .io, message: "cannot rewind the download file: \(String(cString: strerror(errno)))",
                        operation: request.operation, bucket: location.bucket, key: request.key)
                }
            }
            let outcome = try attemptOnce(request)
            switch outcome {
            case .response(let response):
                let retryable = response.status >= 500 || response.status == 429 || isErrorDocument(response, request)
                if retryable && attempt < attempts {
                    logRetry(request, attempt: attempt, reason: "HTTP \(response.status)")
                    backOff(attempt)
                    attempt += 1
                    continue
                }
                return response
            case .failure(let code, let message):
                let error = S3Error(
                    code: .transport, message: "\(message) (curl error \(code.rawValue)) for \(location.endpoint)",
                    operation: request.operation, bucket: location.bucket, key: request.key)
                if Self.isRetryable(code) && attempt < attempts {
                    logRetry(request, attempt: attempt, reason: message)
                    backOff(attempt)
                    attempt += 1
                    continue
                }
                throw error
            case .localFailure(let error):
                throw error
            }
        }
    }

    /// CompleteMultipartUpload can answer 200 with an `<Error>` document when it fails late.
    private func isErrorDocument(_ response: S3Response, _ request: S3Request) -> Bool {
        request.operation == "CompleteMultipartUpload" && response.status == 200
            && !S3XML.elements("Error", in: response.bodyText).isEmpty
    }

    private func logRetry(_ request: S3Request, attempt: Int, reason: String) {
        logger.warning(
            "retrying S3 request",
            metadata: [
                "pixcrawl.s3.operation": "\(request.operation)", "pixcrawl.s3.key": "\(request.key ?? "")",
                "pixcrawl.s3.attempt": "\(attempt)", "pixcrawl.s3.reason": "\(reason)",
            ])
    }

    private func backOff(_ attempt: Int) {
        let base = configuration.retryDelay.seconds * pow(2, Double(attempt - 1))
        let delay = min(configuration.maxRetryDelay.seconds, base) * Double.random(in: 0.5...1.0)
        if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
    }

    private static func isRetryable(_ code: CURLcode) -> Bool {
        [
            CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_SSL_CONNECT_ERROR,
        ].contains(code)
    }

    private enum Outcome {
        case response(S3Response)
        case failure(CURLcode, String)
        case localFailure(S3Error)
    }

    private func attemptOnce(_ request: S3Request) throws -> Outcome {
        try pool.withHandle { handle in
            let context = TransferContext(body: request.body, sink: request.sink)
            var headerList: UnsafeMutablePointer<curl_slist>?
            defer { if let headerList { curl_slist_free_all(headerList) } }
            let easy = handle.easy
            var failures: [String] = []
            func check(_ code: CURLcode, _ what: String) {
                if code != CURLE_OK { failures.append("\(what): \(String(cString: curl_easy_strerror(code)))") }
            }
            func long(_ option: CURLoption, _ value: Int, _ what: String) {
                check(cpix_curl_easy_setopt_long(easy, option, value), what)
            }
            func string(_ option: CURLoption, _ value: String, _ what: String) {
                check(cpix_curl_easy_setopt_str(easy, option, value), what)  // libcurl copies strings
            }

            let url = url(for: request)
            string(CURLOPT_URL, url, "URL")
            string(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
            string(CURLOPT_PROXY, configuration.proxy ?? "", "PROXY")
            string(CURLOPT_USERAGENT, configuration.userAgent, "USERAGENT")
            long(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
            long(CURLOPT_FOLLOWLOCATION, 0, "FOLLOWLOCATION")
            long(CURLOPT_PATH_AS_IS, 1, "PATH_AS_IS")  // keys may hold "." and ".." segments
            long(CURLOPT_TCP_KEEPALIVE, 1, "TCP_KEEPALIVE")
            long(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.seconds * 1000), "CONNECTTIMEOUT_MS")
            if let total = configuration.requestTimeout {
                long(CURLOPT_TIMEOUT_MS, max(1, Int(total.seconds * 1000)), "TIMEOUT_MS")
            }
            if configuration.lowSpeedLimit > 0 {
                long(CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedLimit, "LOW_SPEED_LIMIT")
                long(CURLOPT_LOW_SPEED_TIME, max(1, Int(configuration.lowSpeedTime.seconds)), "LOW_SPEED_TIME")
            }
            string(CURLOPT_AWS_SIGV4, "aws:amz:\(location.region):s3", "AWS_SIGV4")
            // USERNAME and PASSWORD rather than USERPWD: a secret may contain ':'.
            string(CURLOPT_USERNAME, credentials.accessKeyID, "USERNAME")
            string(CURLOPT_PASSWORD, credentials.secretAccessKey, "PASSWORD")
            check(cpix_curl_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, context.errorBuffer), "ERRORBUFFER")

            var headers = request.headers
            headers.append((name: "x-amz-content-sha256", value: request.payloadHash))
            if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
            // libcurl signs every header it is given; one with an empty value would be signed but never sent.
            for header in headers where !header.value.isEmpty {
                headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
            }
            check(cpix_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")

            let me = Unmanaged.passUnretained(context).toOpaque()
            check(cpix_curl_easy_setopt_write_function(easy, s3WriteCallback, me), "WRITEFUNCTION")
            check(cpix_curl_easy_setopt_header_function(easy, s3HeaderCallback, me), "HEADERFUNCTION")
            switch request.method {
            case "GET":
                long(CURLOPT_HTTPGET, 1, "HTTPGET")
            case "HEAD":
                long(CURLOPT_NOBODY, 1, "NOBODY")
            case "DELETE":
                string(CURLOPT_CUSTOMREQUEST, "DELETE", "CUSTOMREQUEST")
            case "PUT":
                long(CURLOPT_UPLOAD, 1, "UPLOAD")
                check(
                    cpix_curl_easy_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length)),
                    "INFILESIZE_LARGE")
                check(cpix_curl_easy_setopt_read_function(easy, s3ReadCallback, me), "READFUNCTION")
                check(cpix_curl_easy_setopt_seek_function(easy, s3SeekCallback, me), "SEEKFUNCTION")
            case "POST":
                long(CURLOPT_POST, 1, "POST")
                check(
                    cpix_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.length)),
                    "POSTFIELDSIZE_LARGE")
                check(cpix_curl_easy_setopt_read_function(easy, s3ReadCallback, me), "READFUNCTION")
                check(cpix_curl_easy_setopt_seek_function(easy, s3SeekCallback, me), "SEEKFUNCTION")
            default:
                failures.append("unsupported method \(request.method)")
            }
            guard failures.isEmpty else {
                return .localFailure(
                    S3Error(
                        code: .transport, message: "cannot configure libcurl: \(failures.joined(separator: "; "))",
                        operation: request.operation, bucket: location.bucket, key: request.key))
            }

            let code = curl_easy_perform(easy)
            if let error = context.localError {
                return .localFailure(
                    S3Error(
                        code: .io, message: error, operation: request.operation, bucket: location.bucket,
                        key: request.key))
            }
            guard code == CURLE_OK else {
                let detail = String(cString: context.errorBuffer)
                return .failure(code, detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            }
            var status = 0
            _ = cpix_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            logger.debug(
                "S3 request",
                metadata: [
                    "pixcrawl.s3.operation": "\(request.operation)", "pixcrawl.s3.key": "\(request.key ?? "")",
                    "pixcrawl.s3.status": "\(status)",
                ])
            return .response(S3Response(status: status, headers: context.headers, body: context.memory))
        }
    }
}

/// The state libcurl's callbacks use during one transfer; lives on the calling thread for the transfer's duration.
final class TransferContext {
    let body: RequestBody
    let sink: ResponseSink
    let errorBuffer: UnsafeMutablePointer<CChar>
    var position: Int64 = 0
    var headers: [String: String] = [:]
    /// The status of the response whose headers arrived last.
    var status = 0
    var memory: [UInt8] = []
    /// Set by the write callback at the first body byte: whether this body goes to the file sink.
    var writesToFile: Bool?
    /// A local failure (reading the upload, writing the download) that aborted the transfer.
    var localError: String?

    init(body: RequestBody, sink: ResponseSink) {
        self.body = body
        self.sink = sink
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit { errorBuffer.deallocate() }

    func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        guard let data, count > 0 else { return count }
        var bytes = UnsafeRawBufferPointer(start: data, count: count)[...]
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes = bytes.dropLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a final response after 100 Continue replaces the interim one
            let fields = line.split(separator: " ", maxSplits: 2)
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = value
        }
        return count
    }

    func receiveBody(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        guard let data, count > 0 else { return count }
        if writesToFile == nil {
            if case .file = sink, (200..<300).contains(status) { writesToFile = true } else { writesToFile = false }
        }
        guard writesToFile == true, case .file(let descriptor) = sink else {
            memory.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
            return count
        }
        var offset = 0
        while offset < count {
            let written = write(descriptor, data + offset, count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                localError = "cannot write the download: \(String(cString: strerror(errno)))"
                return 0  // aborts with CURLE_WRITE_ERROR
            }
            offset += written
        }
        return count
    }

    func readBody(_ buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer, capacity > 0 else { return 0 }
        let remaining = body.length - position
        let wanted = Int(min(Int64(capacity), max(0, remaining)))
        guard wanted > 0 else { return 0 }
        switch body {
        case .none:
            return 0
        case .bytes(let source):
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + Int(position), byteCount: wanted)
            position += Int64(wanted)
            return wanted
        case .file(let descriptor, let offset, _):
            while true {
                let count = pread(descriptor, buffer, wanted, off_t(offset + position))
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    localError =
                        count < 0
                        ? "cannot read the upload: \(String(cString: strerror(errno)))"
                        : "the upload file ended early (was it changed while uploading?)"
                    return Int(CURL_READFUNC_ABORT)
                }
                position += Int64(count)
                return count
            }
        }
    }

    func seek(to offset: Int64, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, offset <= body.length else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
        position = offset
        return Int32(CURL_SEEKFUNC_OK)
    }
}

// libcurl calls these on the thread running curl_easy_perform, with the TransferContext as user data.

private let s3WriteCallback: cpix_curl_write_callback = { data, size, count, userdata in
    Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
        .receiveBody(data, count: size * count)
}

private let s3HeaderCallback: cpix_curl_write_callback = { data, size, count, userdata in
    Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue().receiveHeader(data, count: size * count)
}

private let s3ReadCallback: cpix_curl_read_callback = { buffer, size, count, userdata in
    Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue().readBody(buffer, capacity: size * count)
}

private let s3SeekCallback: cpix_curl_seek_callback = { userdata, offset, origin in
    Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue().seek(to: Int64(offset), origin: origin)
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
