import ArgumentParser
import Dispatch
import Foundation
import Synchronization

extension PixBench {
    /// `pixbench corpus`: writes the deterministic corpus and `files.txt` (one file name per line).
    struct Corpus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the deterministic photo-like corpus (¾ JPEG q85, ¼ PNG).")

        @Option(help: "Output directory.")
        var dir: String

        @Option(help: "Number of images.")
        var count = 2000

        @Option(help: "Seed.")
        var seed: UInt64 = 1

        @Option(name: .customLong("min-side"), help: "Smallest side in pixels.")
        var minSide = 256

        @Option(name: .customLong("max-side"), help: "Largest side in pixels.")
        var maxSide = 1024

        @Option(name: .customLong("png-level"), help: "zlib level of the PNGs (libpng's default is 6).")
        var pngLevel = 6

        @Option(help: "Threads (default: all cores).")
        var threads: Int?

        func run() async throws {
            let directory = URL(fileURLWithPath: dir, isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let start = ContinuousClock.now
            let names = Mutex([String?](repeating: nil, count: count))
            let bytes = Atomic<Int>(0)
            let failure = Mutex<String?>(nil)
            let next = Atomic<Int>(0)
            let (count, seed, sides, pngLevel) = (self.count, self.seed, minSide...max(minSide, maxSide), self.pngLevel)
            let width = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            DispatchQueue.concurrentPerform(iterations: width) { _ in
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < count else { return }
                    let image = CorpusImage(seed: seed, index: index, sides: sides)
                    let name = String(format: "img%06d.%@", index, image.format.fileExtension)
                    do {
                        let data = try image.encoded(pngLevel: pngLevel)
                        try Data(data).write(to: directory.appendingPathComponent(name))
                        bytes.add(data.count, ordering: .relaxed)
                        names.withLock { $0[index] = name }
                    } catch {
                        failure.withLock { $0 = "\(name): \(error)" }
                        return
                    }
                }
            }
            if let message = failure.withLock({ $0 }) { throw BenchError(message) }
            let list = names.withLock { $0.compactMap { $0 } }
            try (list.joined(separator: "\n") + "\n").write(
                to: directory.appendingPathComponent("files.txt"), atomically: true, encoding: .utf8)
            let total = bytes.load(ordering: .relaxed)
            printJSON([
                "images": list.count, "bytes": total, "mean_bytes": list.isEmpty ? 0 : total / list.count,
                "seconds": seconds(since: start),
            ])
        }
    }
}
