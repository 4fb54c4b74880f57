import CCurl
import CPixCurl

/// What one libcurl transfer should do; built by the ``Downloader`` from a request and the configuration.
struct TransferSpec: Sendable {
    var url: String
    var origin: String
    var method: FetchRequest.Method = .get
    var headers: HTTPHeaders = [:]
    var body: [UInt8]?
    var userAgent: String
    /// The body cap; passing it aborts the transfer.
    var maxBodyBytes: Int
    /// Keep the first `maxBodyBytes` and report success instead of failing (robots.txt).
    var truncateAtCap = false
    /// Abort before the body when the final response's `X-Robots-Tag` opts this product token out.
    var robotsTagToken: String?
    var connectTimeout: Duration
    var totalTimeout: Duration
    var lowSpeedLimit: Int
    var lowSpeedTime: Duration
    var maxRedirects: Int
    var acceptEncoding: String?
    var http2: Bool
    var addressPolicy: AddressPolicy
    var hostPins: [String] = []
}

/// How one libcurl transfer ended; the ``Downloader`` turns it into a response or a ``FetchError``.
struct TransferResult: Sendable {
    var code: CURLcode
    var errorMessage: String
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var finalURL: String
    var remoteAddress: String?
    var remotePort: Int?
    var httpVersion: String
    var redirectCount: Int
    var timing: FetchTiming
    /// Set when the address guard refused a connection during this transfer.
    var refusedAddress: IPAddress?
    var refusedClass: AddressClass?
    /// Set when the body cap was passed (by `Content-Length` or while streaming).
    var capExceeded: Bool
    /// Set when the transfer was aborted because `X-Robots-Tag` opted the crawler out.
    var robotsTagAbort: Bool
    /// Bytes libcurl handed to the body callback, including the chunk that passed the cap.
    var bytesOffered: Int

    var succeeded: Bool { code == CURLE_OK || (robotsTagAbort && code == CURLE_WRITE_ERROR) }
}

/// The per-transfer state libcurl's callbacks write into. Confined to the libcurl thread: created, used by
/// callbacks and finished there, never shared with other threads.
final class Transfer {
    let id: UInt64
    let spec: TransferSpec
    let continuation: CheckedContinuation<TransferResult, any Error>
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var pinList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private var body: [UInt8] = []
    private var bodyStarted = false
    private var bytesOffered = 0
    private var capExceeded = false
    private var robotsTagAbort = false
    private var headers: [HTTPHeader] = []
    private var refusedAddress: IPAddress?
    private var refusedClass: AddressClass?

    init(id: UInt64, spec: TransferSpec, continuation: CheckedContinuation<TransferResult, any Error>) {
        self.id = id
        self.spec = spec
        self.continuation = continuation
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    /// Creates and configures the easy handle. Returns a description of the failure, or `nil`.
    func prepare() -> String? {
        guard let easy = curl_easy_init() else { return "curl_easy_init failed" }
        self.easy = easy
        let me = Unmanaged.passUnretained(self).toOpaque()
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

        string(CURLOPT_URL, spec.url, "URL")
        string(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
        string(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", "REDIR_PROTOCOLS_STR")
        string(CURLOPT_PROXY, "", "PROXY")  // never route through an environment proxy
        string(CURLOPT_USERAGENT, spec.userAgent, "USERAGENT")
        long(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        long(CURLOPT_FOLLOWLOCATION, 1, "FOLLOWLOCATION")
        long(CURLOPT_MAXREDIRS, spec.maxRedirects, "MAXREDIRS")
        long(CURLOPT_CONNECTTIMEOUT_MS, Int(spec.connectTimeout.milliseconds), "CONNECTTIMEOUT_MS")
        long(CURLOPT_TIMEOUT_MS, Int(spec.totalTimeout.milliseconds), "TIMEOUT_MS")
        if spec.lowSpeedLimit > 0 {
            long(CURLOPT_LOW_SPEED_LIMIT, spec.lowSpeedLimit, "LOW_SPEED_LIMIT")
            long(CURLOPT_LOW_SPEED_TIME, max(1, Int(spec.lowSpeedTime.milliseconds / 1000)), "LOW_SPEED_TIME")
        }
        long(
            CURLOPT_HTTP_VERSION, spec.http2 ? Int(CURL_HTTP_VERSION_2TLS) : Int(CURL_HTTP_VERSION_1_1),
            "HTTP_VERSION")
        long(CURLOPT_PIPEWAIT, 1, "PIPEWAIT")
        long(CURLOPT_TCP_KEEPALIVE, 1, "TCP_KEEPALIVE")
        if !spec.truncateAtCap {
            check(
                cpix_curl_easy_setopt_off_t(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(spec.maxBodyBytes)),
                "MAXFILESIZE_LARGE")
        }
        if let encoding = spec.acceptEncoding { string(CURLOPT_ACCEPT_ENCODING, encoding, "ACCEPT_ENCODING") }
        switch spec.method {
        case .get:
            long(CURLOPT_HTTPGET, 1, "HTTPGET")
        case .head:
            long(CURLOPT_NOBODY, 1, "NOBODY")
        case .post:
            let body = spec.body ?? []
            check(
                cpix_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)),
                "POSTFIELDSIZE_LARGE")
            if body.isEmpty {
                string(CURLOPT_COPYPOSTFIELDS, "", "COPYPOSTFIELDS")
            } else {
                // COPYPOSTFIELDS copies POSTFIELDSIZE bytes, so the buffer need not outlive this call.
                check(
                    body.withUnsafeBytes {
                        cpix_curl_easy_setopt_ptr(
                            easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                    },
                    "COPYPOSTFIELDS")
            }
        }
        for header in spec.headers {
            // A CR or LF would let a value smuggle extra header lines (or a second request) onto the wire.
            let line = "\(header.name): \(header.value)"
            guard !header.name.isEmpty, !line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
                failures.append("header '\(header.name)' contains a line break or has no name")
                continue
            }
            headerList = curl_slist_append(headerList, line)
        }
        if let headerList { check(cpix_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER") }
        for pin in spec.hostPins {
            pinList = curl_slist_append(pinList, pin)
        }
        if let pinList { check(cpix_curl_easy_setopt_slist(easy, CURLOPT_RESOLVE, pinList), "RESOLVE") }
        check(cpix_curl_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        check(cpix_curl_easy_setopt_write_function(easy, transferWriteCallback, me), "WRITEFUNCTION")
        check(cpix_curl_easy_setopt_header_function(easy, transferHeaderCallback, me), "HEADERFUNCTION")
        check(cpix_curl_easy_setopt_opensocket_function(easy, transferOpenSocketCallback, me), "OPENSOCKETFUNCTION")
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// Frees the easy handle and lists (after it was removed from the multi handle).
    func releaseHandle() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        if let pinList { curl_slist_free_all(pinList) }
        pinList = nil
    }

    // MARK: Callbacks (libcurl thread)

    fileprivate func receiveBody(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        if !bodyStarted {
            bodyStarted = true
            var status = 0
            if let easy { _ = cpix_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) }
            // An opted-out 2xx image is rejected without downloading it; error pages keep their status.
            if let token = spec.robotsTagToken, (200..<300).contains(status),
                RobotsTag.optOutDirective(in: HTTPHeaders(headers), productToken: token) != nil
            {
                robotsTagAbort = true
                return 0
            }
            var length: curl_off_t = -1
            if let easy, cpix_curl_easy_getinfo_off_t(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK,
                length >= 0
            {
                if length > spec.maxBodyBytes && !spec.truncateAtCap {
                    capExceeded = true
                    return 0
                }
                body.reserveCapacity(min(Int(length), spec.maxBodyBytes))
            }
        }
        bytesOffered += count
        guard let data, count > 0 else { return count }
        let room = spec.maxBodyBytes - body.count
        if count > room {
            capExceeded = true
            if spec.truncateAtCap {
                body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: max(0, room)))
            }
            return 0  // aborts the transfer with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
        return count
    }

    fileprivate func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        guard let data, count > 0 else { return count }
        var bytes = UnsafeRawBufferPointer(start: data, count: count)[...]
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes = bytes.dropLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after a redirect or 100 Continue) replaces the previous one
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingWhitespace().lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            if !name.isEmpty { headers.append(HTTPHeader(name: name, value: value)) }
        }
        return count
    }

    fileprivate func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
        var raw = [UInt8](repeating: 0, count: 16)
        var port: UInt16 = 0
        let family = cpix_curl_sockaddr_address(address, &raw, &port)
        guard family == 4 || family == 6, let ip = IPAddress(bytes: raw.prefix(family == 4 ? 4 : 16)) else {
            refusedClass = .reserved
            return CURL_SOCKET_BAD
        }
        if case .refused(let addressClass) = spec.addressPolicy.evaluate(ip) {
            refusedAddress = ip
            refusedClass = addressClass
            return CURL_SOCKET_BAD
        }
        return cpix_curl_open_socket(address)
    }

    // MARK: Completion

    /// Gathers what libcurl knows about the finished transfer.
    func result(code: CURLcode) -> TransferResult {
        let message = String(cString: errorBuffer)
        var result = TransferResult(
            code: code, errorMessage: message.isEmpty ? String(cString: curl_easy_strerror(code)) : message,
            status: 0, headers: HTTPHeaders(headers), body: body, finalURL: spec.url, remoteAddress: nil,
            remotePort: nil, httpVersion: "", redirectCount: 0, timing: FetchTiming(), refusedAddress: refusedAddress,
            refusedClass: refusedClass, capExceeded: capExceeded, robotsTagAbort: robotsTagAbort,
            bytesOffered: bytesOffered)
        guard let easy else { return result }
        func long(_ info: CURLINFO) -> Int? {
            var value = 0
            return cpix_curl_easy_getinfo_long(easy, info, &value) == CURLE_OK ? value : nil
        }
        func string(_ info: CURLINFO) -> String? {
            var value: UnsafePointer<CChar>?
            guard cpix_curl_easy_getinfo_string(easy, info, &value) == CURLE_OK, let value else { return nil }
            return String(cString: value)
        }
        func duration(_ info: CURLINFO) -> Duration {
            var value: curl_off_t = 0
            guard cpix_curl_easy_getinfo_off_t(easy, info, &value) == CURLE_OK else { return .zero }
            return .microseconds(value)
        }
        result.status = long(CURLINFO_RESPONSE_CODE) ?? 0
        result.finalURL = string(CURLINFO_EFFECTIVE_URL) ?? spec.url
        result.remoteAddress = string(CURLINFO_PRIMARY_IP).flatMap { $0.isEmpty ? nil : $0 }
        result.remotePort = long(CURLINFO_PRIMARY_PORT).flatMap { $0 == 0 ? nil : $0 }
        result.redirectCount = long(CURLINFO_REDIRECT_COUNT) ?? 0
        result.httpVersion =
            switch long(CURLINFO_HTTP_VERSION) ?? 0 {
            case Int(CURL_HTTP_VERSION_1_0): "1.0"
            case Int(CURL_HTTP_VERSION_1_1): "1.1"
            case Int(CURL_HTTP_VERSION_2_0): "2"
            case Int(CURL_HTTP_VERSION_3): "3"
            default: ""
            }
        result.timing = FetchTiming(
            nameLookup: duration(CURLINFO_NAMELOOKUP_TIME_T), connect: duration(CURLINFO_CONNECT_TIME_T),
            tlsHandshake: duration(CURLINFO_APPCONNECT_TIME_T), firstByte: duration(CURLINFO_STARTTRANSFER_TIME_T),
            redirects: duration(CURLINFO_REDIRECT_TIME_T), total: duration(CURLINFO_TOTAL_TIME_T))
        return result
    }
}

// libcurl calls these on the libcurl thread with the `Transfer` passed as user data.

private let transferWriteCallback: cpix_curl_write_callback = { data, size, count, userdata in
    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().receiveBody(data, count: size * count)
}

private let transferHeaderCallback: cpix_curl_write_callback = { data, size, count, userdata in
    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().receiveHeader(data, count: size * count)
}

private let transferOpenSocketCallback: cpix_curl_opensocket_callback = { userdata, _, address in
    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().openSocket(address)
}
