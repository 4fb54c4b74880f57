import Hummingbird
import Logging
import NIOCore

/// The offline demo's web server: ``DemoCorpus`` served with Hummingbird on `127.0.0.1`, on a free port.
///
/// It starts when created and runs until ``stop()``. Its lifetime is the demo source's, which is not structured
/// (a source starts its server on first use and stops it in `shutdown()`), so the server runs in a task of its own.
final class DemoServer: Sendable {
    private let running: Task<Void, Never>
    private let bound: Task<Int, any Error>

    /// Starts the server.
    /// - Parameter logger: receives the server's address and errors.
    init(logger: Logger) {
        let router = Router()
        router.get("/robots.txt") { _, _ in Self.response(DemoCorpus.robots) }
        router.get("/demo/**") { request, _ in Self.response(DemoCorpus.answer(path: request.uri.path)) }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        // Hummingbird reports its start at info level; the demo says where it serves itself.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("offline demo library serving", metadata: ["pixcrawl.url": "http://127.0.0.1:\(port)"])
                portSink.yield(port)
                portSink.finish()
            },
            logger: serverLogger)
        running = Task {
            do {
                try await application.run()
            } catch {
                logger.error("offline demo server failed", metadata: ["pixcrawl.error": "\(error)"])
            }
            portSink.finish()
        }
        bound = Task {
            for await port in ports where port > 0 { return port }
            throw DemoServerError()
        }
    }

    deinit {
        stop()
    }

    /// `http://127.0.0.1:PORT`, once the server listens.
    /// - Throws: when it could not bind a loopback port.
    func baseURL() async throws -> String {
        "http://127.0.0.1:\(try await bound.value)"
    }

    /// Stops the server: it closes its listener and connections.
    func stop() {
        running.cancel()
    }

    private static func response(_ answer: DemoCorpus.Answer) -> Response {
        var headers = HTTPFields()
        if let contentType = answer.contentType { headers[.contentType] = contentType }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// The demo server did not start listening.
struct DemoServerError: Error, CustomStringConvertible {
    var description: String { "no loopback port could be bound (see the log)" }
}
