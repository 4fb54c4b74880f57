import Foundation
import PixCore
import PixTestSupport
import Synchronization

/// A loopback HTTP server that answers each request with the next of a list of canned responses (the last one
/// repeats), one request per connection: for what moto cannot be made to do, such as answering 503.
final class ScriptedHTTPServer: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: String
        var headers: [String: String] = [:]
    }

    let port: Int
    private let listener: Int32
    private let script: [Response]
    private let served = Mutex<[String]>([])

    /// Request lines (`GET /bucket/key?… HTTP/1.1`) in the order they arrived.
    var requests: [String] { served.withLock { $0 } }

    init(_ script: [Response]) throws {
        precondition(!script.isEmpty)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw TestSupportError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.script = script
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        NativeThread.detached(name: "test.s3") { [self] in serve() }
    }

    /// Stops accepting; the accept loop ends and closes the listener. Closing it here would free the descriptor's
    /// number while the loop may still call `accept` with it: a server started next reuses the number, and this
    /// loop would take that server's connections and answer them from the wrong script.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // Headers, then as much body as Content-Length announces.
        var headerEnd: Int?
        var bodyLength = 0
        while headerEnd.map({ received.count < $0 + bodyLength }) ?? true {
            let count = read(connection, &buffer, buffer.count)
            // Other tests of the process spawn children: a SIGCHLD may interrupt the read.
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            received.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                headerEnd = end.upperBound
                let head = String(decoding: received[0..<end.lowerBound], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                if head.contains("expect: 100-continue") {
                    Self.writeAll(connection, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                }
            }
        }
        let requestLine = String(decoding: received.prefix { $0 != 0x0D }, as: UTF8.self)
        let index = served.withLock { requests in
            requests.append(requestLine)
            return requests.count - 1
        }
        let response = script[min(index, script.count - 1)]
        var text = "HTTP/1.1 \(response.status) Scripted\r\nContent-Length: \(response.body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n" + (requestLine.hasPrefix("HEAD ") ? "" : response.body)
        Self.writeAll(connection, Array(text.utf8))
    }

    /// Writes every byte, resuming after interruptions and short writes.
    private static func writeAll(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
