import CCurl
import CPixCurl
import Foundation
import PixTestSupport

/// One libcurl request outside ``S3Client``: fetching presigned URLs as a browser would (no credentials) and
/// calling moto's IAM API to set up a signature-checking server.
enum PlainCurl {
    struct Response {
        var status: Int
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends `method url` with an optional form body; signs with libcurl's SigV4 when `sigv4` is given.
    static func request(
        _ url: String, method: String = "GET", form: String? = nil,
        sigv4: (provider: String, user: String, password: String)? = nil
    ) throws -> Response {
        guard cpix_curl_global_init_once() == CURLE_OK, let easy = curl_easy_init() else {
            throw TestSupportError("libcurl init failed")
        }
        defer { curl_easy_cleanup(easy) }
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let callback: cpix_curl_write_callback = { data, size, count, userdata in
            let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
            if let data { sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count)) }
            return size * count
        }
        _ = cpix_curl_easy_setopt_str(easy, CURLOPT_URL, url)
        _ = cpix_curl_easy_setopt_str(easy, CURLOPT_PROXY, "")
        _ = cpix_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = cpix_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        _ = cpix_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, 60_000)
        _ = cpix_curl_easy_setopt_write_function(easy, callback, Unmanaged.passUnretained(sink).toOpaque())
        if let form {
            _ = cpix_curl_easy_setopt_str(easy, CURLOPT_COPYPOSTFIELDS, form)
        }
        if method != "GET" && method != "POST" { _ = cpix_curl_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method) }
        if let sigv4 {
            _ = cpix_curl_easy_setopt_str(easy, CURLOPT_AWS_SIGV4, sigv4.provider)
            _ = cpix_curl_easy_setopt_str(easy, CURLOPT_USERNAME, sigv4.user)
            _ = cpix_curl_easy_setopt_str(easy, CURLOPT_PASSWORD, sigv4.password)
        }
        let code = curl_easy_perform(easy)
        guard code == CURLE_OK else {
            throw TestSupportError("\(method) \(url): \(String(cString: curl_easy_strerror(code)))")
        }
        var status = 0
        _ = cpix_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, body: sink.bytes)
    }

    /// `name=value&…` with RFC 3986 encoding.
    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}
