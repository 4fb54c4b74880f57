import Glibc
import PixDemo
import PixFixtures
import Testing

@Suite struct FixtureServerTests {
    @Test func generatedImagesAreDeterministicAndRealistic() {
        let first = FixtureImages.jpeg(seed: 1, width: 320, height: 240)
        #expect(first == FixtureImages.jpeg(seed: 1, width: 320, height: 240))
        #expect(first != FixtureImages.jpeg(seed: 2, width: 320, height: 240))
        #expect(first.starts(with: [0xFF, 0xD8, 0xFF]))
        #expect(first.suffix(2) == [0xFF, 0xD9])
        #expect(first.count > 5_000)  // photo-like content does not compress to nothing

        let png = FixtureImages.png(seed: 1, width: 64, height: 48)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(readUInt32(png, at: 16) == 64)
        #expect(readUInt32(png, at: 20) == 48)
    }

    @Test func malformedFilesAreMalformedTheRightWay() {
        let truncated = FixtureImages.truncatedJPEG(seed: 11)
        #expect(truncated.starts(with: [0xFF, 0xD8]))
        #expect(truncated.suffix(2) != [0xFF, 0xD9])

        let bomb = FixtureImages.pngDeclaring(width: 100_000, height: 100_000)
        #expect(readUInt32(bomb, at: 16) == 100_000)
        #expect(readUInt32(bomb, at: 20) == 100_000)
        #expect(bomb.count < 100)

        let good = FixtureImages.png(seed: 12)
        let bad = FixtureImages.pngWithBadCRC(seed: 12)
        #expect(good.count == bad.count)
        #expect(zip(good, bad).filter { $0 != $1 }.count == 1)

        #expect(FixtureImages.gif.starts(with: Array("GIF89a".utf8)))
    }

    @Test func servesKeepAliveRequestsAndLogsThem() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        #expect(server.port != 0)
        #expect(server.baseURL == "http://127.0.0.1:\(server.port)")
        let responses = try rawExchange(
            port: server.port,
            requests: [
                "GET /img/5.jpg?w=10&h=10 HTTP/1.1\r\nHost: x\r\nX-Test: one\r\n\r\n",
                "GET /status/404 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ])
        #expect(responses.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(responses.contains("HTTP/1.1 404 Not Found\r\n"))
        #expect(server.connectionCount == 1)
        #expect(server.requestCount(path: "/img/5.jpg") == 1)
        let logged = try #require(server.requests.first)
        #expect(logged.headers["x-test"] == "one")
        #expect(logged.query["w"] == "10")
        #expect(server.bodyBytesSent(path: "/img/5.jpg") == FixtureImages.jpeg(seed: 5, width: 10, height: 10).count)
    }

    @Test func laterRoutesTakePrecedence() throws {
        let server = try FixtureServer()
        defer { server.stop() }
        server.route(.exact("/robots.txt")) { _ in .text("User-agent: *\nAllow: /\n") }
        let response = try rawExchange(
            port: server.port, requests: ["GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
        #expect(response.hasSuffix("User-agent: *\nAllow: /\n"))
    }

    @Test func stopEndsADripAndFreesThePort() throws {
        let server = try FixtureServer()
        let port = server.port
        let socket = try connectLoopback(port: port)
        defer { close(socket) }
        try sendAll(socket, "GET /drip?interval_ms=20 HTTP/1.1\r\nHost: x\r\n\r\n")
        while server.requestCount(path: "/drip") == 0 { usleep(5_000) }
        server.stop()
        #expect(server.bodyBytesSent(path: "/drip") >= 1)
        let again = try FixtureServer(port: port)
        again.stop()
    }
}
