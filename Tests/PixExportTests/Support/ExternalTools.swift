import Foundation

/// Runs independent readers (Python's zipfile/tarfile/gzip, unzip, GNU tar) against written archives.
enum ExternalTools {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a Python 3 script with arguments and decodes what it prints on stdout as JSON.
    static func python<Result: Decodable>(
        _ script: String, _ arguments: [String], as type: Result.Type
    ) throws -> Result {
        let output = try run("/usr/bin/env", ["python3", "-c", script] + arguments)
        do {
            return try JSONDecoder().decode(Result.self, from: output)
        } catch {
            throw Failure(
                description: "python printed something that is not the expected JSON: "
                    + String(decoding: output.prefix(2000), as: UTF8.self))
        }
    }

    /// Whether an executable is on PATH (checked with `which`, never installed).
    static func isInstalled(_ tool: String) -> Bool {
        (try? run("/usr/bin/env", ["which", tool])) != nil
    }

    /// Runs a process; throws with its stderr when it exits non-zero. Returns stdout.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = errorHandle
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorHandle.close()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            throw Failure(
                description: "\(arguments.prefix(2).joined(separator: " ")) exited with \(process.terminationStatus): "
                    + String(stderr.suffix(2000)))
        }
        return output
    }
}

/// A directory under the system temporary directory, removed when released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pixexport-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Names in the directory, hidden ones included.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    /// Writes deterministic pseudo-random bytes to a file and returns them.
    @discardableResult
    func makeFile(_ name: String, size: Int, seed: UInt64) throws -> [UInt8] {
        let bytes = Fixtures.bytes(count: size, seed: seed)
        try Data(bytes).write(to: file(name))
        return bytes
    }
}

enum Fixtures {
    /// Deterministic bytes from a 64-bit xorshift generator.
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state) { out.append(contentsOf: $0.prefix(count - out.count)) }
        }
        return out
    }

    /// SHA-256 as lowercase hex, computed by Python's hashlib (an independent implementation).
    static func sha256(of files: [URL]) throws -> [String] {
        try ExternalTools.python(
            """
            import hashlib, json, sys
            print(json.dumps([hashlib.sha256(open(p, 'rb').read()).hexdigest() for p in sys.argv[1:]]))
            """, files.map(\.path), as: [String].self)
    }

    static let referenceDate = Date(timeIntervalSince1970: 1_700_000_000)
}
