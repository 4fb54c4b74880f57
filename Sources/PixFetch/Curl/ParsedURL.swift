import CCurl

/// A URL split into the parts the downloader needs, parsed by libcurl's own URL parser so that the
/// checks made here judge exactly what libcurl will connect to.
struct ParsedURL: Sendable, Hashable {
    /// Lowercased scheme, e.g. `https`.
    var scheme: String
    /// The host as libcurl normalises it (IPv6 in brackets, numeric IPv4 spellings made dotted).
    var host: String
    /// The port, the scheme's default when the URL has none.
    var port: Int
    /// Path and query as sent in the request line: `/a/b?c=d`.
    var pathAndQuery: String

    /// `scheme://host:port`, the key robots.txt and per-host limits are kept under.
    var origin: String { "\(scheme)://\(host.lowercased()):\(port)" }

    /// Parses `text`; throws ``FetchError`` (`invalidURL` or `schemeNotAllowed`).
    init(_ text: String) throws(FetchError) {
        guard let handle = curl_url() else {
            throw FetchError(.invalidURL, url: text, reason: "libcurl could not allocate a URL handle")
        }
        defer { curl_url_cleanup(handle) }
        let setResult = curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_NON_SUPPORT_SCHEME))
        guard setResult == CURLUE_OK else {
            let message = String(cString: curl_url_strerror(setResult))
            throw FetchError(.invalidURL, url: text, reason: "not a valid URL: \(message)")
        }
        let scheme = (Self.part(handle, CURLUPART_SCHEME) ?? "").lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw FetchError(
                .schemeNotAllowed, url: text,
                reason: "scheme '\(scheme)' is not allowed; only http and https are fetched")
        }
        guard let host = Self.part(handle, CURLUPART_HOST), !host.isEmpty else {
            throw FetchError(.invalidURL, url: text, reason: "the URL has no host")
        }
        let port = Self.part(handle, CURLUPART_PORT, flags: UInt32(CURLU_DEFAULT_PORT)).flatMap { Int($0) }
        let path = Self.part(handle, CURLUPART_PATH) ?? "/"
        let query = Self.part(handle, CURLUPART_QUERY)
        self.scheme = scheme
        self.host = host
        self.port = port ?? (scheme == "https" ? 443 : 80)
        self.pathAndQuery = (path.isEmpty ? "/" : path) + (query.map { "?" + $0 } ?? "")
    }

    private static func part(_ handle: OpaquePointer, _ part: CURLUPart, flags: UInt32 = 0) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, part, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
