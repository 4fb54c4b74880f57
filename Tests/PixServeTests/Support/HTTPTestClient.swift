import Dispatch
import Foundation
import PixCore
import PixTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A response as the test client received it.
struct HTTPResult: Sendable {
    var status: Int
    /// Header names lower-cased; repeated headers joined with ", " (Set-Cookie kept apart in `cookies`).
    var headers: [String: String]
    var cookies: [String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `items` of a list body.
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// A minimal HTTP/1.1 client over a loopback socket (one connection per request, `Connection: close`), so
/// tests see exactly what the server sent: no redirects followed, no cookies kept, no ranges stitched.
/// Blocking socket calls run on a thread of their own (``NativeThread/run(name:_:)``), never on a pooled thread.
struct HTTPTestClient: Sendable {
    let port: Int

    func request(
        _ method: String, _ path: String, token: String? = nil, json: Any? = nil, body: [UInt8]? = nil,
        headers: [String: String] = [:]
    ) async throws -> HTTPResult {
        var payload = body
        var allHeaders = headers
        if let json {
            payload = Array(try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
            if allHeaders["Content-Type"] == nil { allHeaders["Content-Type"] = "application/json" }
        }
        if let token { allHeaders["Authorization"] = "Bearer \(token)" }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in allHeaders.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if let payload { head += "Content-Length: \(payload.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + (payload ?? [])
        let port = self.port
        return try await NativeThread.run(name: "test.http") { try Self.exchange(port: port, bytes: bytes, method: method) }
    }

    func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await request("GET", path, token: token, headers: headers)
    }

    private static func exchange(port: Int, bytes: [UInt8], method: String) throws -> HTTPResult {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        // The server may answer (413) and close before reading everything: stop sending, read the answer.
        try? connection.send(bytes)
        return try parse(connection.receiveAll(), method: method)
    }

    static func parse(_ data: [UInt8], method: String) throws -> HTTPResult {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.indices.first(where: { data[$0...].starts(with: separator) }) else {
            throw ClientError(description: "no complete response head in \(data.count) bytes")
        }
        let head = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ClientError(description: "bad status line \(head[0])")
        }
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "set-cookie" { cookies.append(value) }
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        var body = Array(data[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body) }
        if method == "HEAD" { body = [] }
        return HTTPResult(status: status, headers: headers, cookies: cookies, body: body)
    }

    static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < data.count {
            guard let lineEnd = (index..<(data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else {
                throw ClientError(description: "truncated chunk header")
            }
            let sizeText = String(decoding: data[index..<lineEnd], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw ClientError(description: "bad chunk size \(sizeText)")
            }
            index = lineEnd + 2
            if size == 0 { break }
            guard index + size <= data.count else { throw ClientError(description: "truncated chunk") }
            result += data[index..<(index + size)]
            index += size + 2
        }
        return result
    }
}

/// A loopback TCP connection the test can abandon half-way through a request.
final class RawConnection: @unchecked Sendable {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, connected == 0 else { throw ClientError(description: "connect to 127.0.0.1:\(port) failed") }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw ClientError(description: "send failed") }
            offset += sent
        }
    }

    /// Everything the server sends until it closes the connection.
    func receiveAll() -> [UInt8] {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
