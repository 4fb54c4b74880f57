import PixExport

/// A byte source that delivers bytes in small reads and can fail, or cancel the current task, after a
/// number of bytes.
struct ChunkedSource: ArchiveByteSource {
    enum Trigger {
        case none
        case fail(after: Int)
        case cancelTask(after: Int)
    }

    struct Injected: Error {}

    let bytes: [UInt8]
    var readSize = 10_000
    var trigger = Trigger.none
    private(set) var offset = 0

    init(bytes: [UInt8], readSize: Int = 10_000, trigger: Trigger = .none) {
        self.bytes = bytes
        self.readSize = readSize
        self.trigger = trigger
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch trigger {
        case .none: break
        case .fail(let after):
            if offset >= after { throw Injected() }
        case .cancelTask(let after):
            if offset >= after { withUnsafeCurrentTask { $0?.cancel() } }
        }
        let count = min(readSize, buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
