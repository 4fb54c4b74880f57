import ArgumentParser
import Foundation

/// A one-line error for the person at the terminal.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body; any error becomes one line on stderr and exit status 1 (no stack of errors).
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        FileHandle.standardError.write(Data("pixcrawl: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// For commands that a later capability implements: says so plainly and exits non-zero.
func notImplemented(_ command: String, capability: String) throws -> Never {
    FileHandle.standardError.write(
        Data("pixcrawl: `\(command)` is not implemented yet (it arrives with \(capability)).\n".utf8))
    throw ExitCode(2)
}
