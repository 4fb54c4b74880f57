import CCurl
import CLibJPEG
import CLibPNG
import CLibPQ
import CPixCurl
import CPixImage
import CSQLite
import Foundation
import PixTestSupport
import Testing

/// Each system-library binding calls its real library.
@Suite("C bindings")
struct CBindingsTests {
    @Test("libcurl reports its version and supports http and https")
    func curlVersion() throws {
        let info = try #require(curl_version_info(CURLVERSION_TENTH))  // CURLVERSION_NOW is a macro Swift cannot import
        let version = String(cString: info.pointee.version)
        #expect(version.split(separator: ".").count == 3)
        var protocols: [String] = []
        var cursor = info.pointee.protocols
        while let name = cursor?.pointee {
            protocols.append(String(cString: name))
            cursor = cursor?.advanced(by: 1)
        }
        #expect(protocols.contains("http"))
        #expect(protocols.contains("https"))
        #expect(info.pointee.features & CURL_VERSION_SSL != 0, "built with TLS (libcurl4-openssl-dev)")
    }

    @Test("libcurl's easy handle accepts options through the typed shim")
    func curlShimSetopt() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(cpix_curl_easy_setopt_long(handle, CURLOPT_MAXREDIRS, 3) == CURLE_OK)
        #expect(cpix_curl_easy_setopt_str(handle, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK)
    }

    @Test("libpq connects to the test server and runs a parameterized query")
    func libpqConnects() throws {
        let url = try TestPostgres.baseURL()
        let connection = try #require(PQconnectdb(url))
        defer { PQfinish(connection) }
        #expect(PQstatus(connection) == CONNECTION_OK, "\(String(cString: PQerrorMessage(connection)))")
        let value = strdup("41")
        defer { free(value) }
        var values: [UnsafePointer<CChar>?] = [UnsafePointer(value)]
        let result = PQexecParams(connection, "SELECT $1::int + 1", 1, nil, &values, nil, nil, 0)
        defer { PQclear(result) }
        #expect(PQresultStatus(result) == PGRES_TUPLES_OK)
        #expect(String(cString: PQgetvalue(result, 0, 0)) == "42")
    }

    @Test("sqlite opens a database, writes and reads")
    func sqliteOpens() throws {
        var db: OpaquePointer?
        #expect(sqlite3_open(":memory:", &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        #expect(sqlite3_exec(db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);", nil, nil, nil) == SQLITE_OK)
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(db, "SELECT x FROM t", -1, &statement, nil) == SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        #expect(sqlite3_column_int(statement, 0) == 7)
        #expect(String(cString: sqlite3_libversion()).hasPrefix("3."))
    }

    static func gradient(width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                pixels[i] = UInt8(x * 255 / max(1, width - 1))
                pixels[i + 1] = UInt8(y * 255 / max(1, height - 1))
                pixels[i + 2] = UInt8((x + y) % 256)
            }
        }
        return pixels
    }

    @Test("a PNG round-trips encode → decode in memory through libpng")
    func pngRoundTrip() throws {
        let pixels = Self.gradient(width: 97, height: 61)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        #expect(cpix_png_encode(pixels, 97, 61, 3, &out, &length, &status) == CPIX_OK)
        defer { cpix_free(out) }
        let bytes = try #require(out)
        #expect(Array(UnsafeBufferPointer(start: bytes, count: 8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = cpix_image_header()
        var options = cpix_decode_options()
        options.max_pixels = 1_000_000
        #expect(cpix_png_decode(bytes, length, &options, &header, &status) == CPIX_OK)
        #expect(header.width == 97 && header.height == 61)
        // Damage the last byte of the IDAT data: the decode must fail in C, not crash Swift.
        var damaged = Array(UnsafeBufferPointer(start: bytes, count: length))
        damaged[length - 20] ^= 0xFF
        #expect(cpix_png_decode(damaged, damaged.count, &options, &header, &status) == CPIX_ERR_CORRUPT)
        #expect(!withUnsafeBytes(of: status.message) { $0.allSatisfy { $0 == 0 } })
    }

    @Test("a JPEG round-trips encode → decode in memory through libjpeg")
    func jpegRoundTrip() throws {
        let pixels = Self.gradient(width: 120, height: 80)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        #expect(cpix_jpeg_encode(pixels, 120, 80, 3, 85, &out, &length, &status) == CPIX_OK)
        defer { cpix_free(out) }
        let bytes = try #require(out)
        #expect(bytes[0] == 0xFF && bytes[1] == 0xD8)
        var header = cpix_image_header()
        var options = cpix_decode_options()
        options.max_pixels = 1_000_000
        for mode in [Int32(CPIX_JPEG_SCALED), Int32(CPIX_JPEG_FULL)] {
            #expect(cpix_jpeg_decode(bytes, length, mode, &options, &header, &status) == CPIX_OK)
            #expect(header.width == 120 && header.height == 80)
            // Truncated: libjpeg's longjmp/warnings stay in C and come back as an error code.
            #expect(cpix_jpeg_decode(bytes, length / 2, mode, &options, &header, &status) == CPIX_ERR_CORRUPT)
        }
    }
}
