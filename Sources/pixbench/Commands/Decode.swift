import ArgumentParser
import Dispatch
import Foundation
import PixCore
import PixValidate
import Synchronization

extension PixBench {
    /// `pixbench decode`: the decode-only limit — every corpus file read from disk and decoded by PixValidate on
    /// all cores, with no network and no storage.
    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode the corpus from disk on all cores.")

        enum Mode: String, ExpressibleByArgument, CaseIterable {
            /// ``ImageDecodeMode/entropyComplete``: JPEG at 1/8 scale (the default validation), PNG in full.
            case entropy
            /// ``ImageDecodeMode/fullSize``: every pixel at full size (`--validate pixels`).
            case full
            /// The whole ``ImageValidator`` with default rules (decode, SHA-256, difference hash).
            case validator
        }

        @Option(help: "Corpus directory (with files.txt).")
        var dir: String

        @Option(help: "entropy, full or validator.")
        var mode: Mode = .entropy

        @Option(help: "Threads (default: all cores).")
        var threads: Int?

        @Option(help: "Decode only the first N files.")
        var limit: Int?

        func run() async throws {
            let directory = URL(fileURLWithPath: dir, isDirectory: true)
            var names = try String(contentsOf: directory.appendingPathComponent("files.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
            if let limit { names = Array(names.prefix(limit)) }
            let paths = names.map { directory.appendingPathComponent($0).path }
            let width = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            let next = Atomic<Int>(0)
            let failures = Atomic<Int>(0)
            let bytes = Atomic<Int>(0)
            let mode = self.mode
            let validator = ImageValidator()
            let cpuStart = processCPUSeconds()
            let start = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: width) { _ in
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < paths.count else { return }
                    guard let data = FileManager.default.contents(atPath: paths[index]) else {
                        failures.add(1, ordering: .relaxed)
                        continue
                    }
                    bytes.add(data.count, ordering: .relaxed)
                    let ok: Bool
                    switch mode {
                    case .validator:
                        if case .accepted = validator.validate(data) { ok = true } else { ok = false }
                    case .entropy, .full:
                        let format: ImageFormat =
                            paths[index].hasSuffix(".png") ? .png : paths[index].hasSuffix(".webp") ? .webp : .jpeg
                        do {
                            _ = try ImageDecoder.decode(
                                data, format: format, mode: mode == .full ? .fullSize : .entropyComplete)
                            ok = true
                        } catch {
                            ok = false
                        }
                    }
                    if !ok { failures.add(1, ordering: .relaxed) }
                }
            }
            let elapsed = seconds(since: start)
            let cpu = processCPUSeconds() - cpuStart
            printJSON([
                "cpu_ms_per_image": cpu * 1000 / Double(max(1, paths.count)), "mode": mode.rawValue, "images": paths.count,
                "failures": failures.load(ordering: .relaxed),
                "bytes": bytes.load(ordering: .relaxed), "threads": width, "seconds": elapsed,
                "images_per_s": Double(paths.count) / max(elapsed, 1e-9),
            ])
        }
    }
}
