import CZlib
import Foundation

/// A gzip stream (zlib deflate with a gzip header and trailer) in front of an ``AtomicFileOutput``.
final class GzipOutput: ArchiveSink {
    private let file: AtomicFileOutput
    private let stream: UnsafeMutablePointer<z_stream>
    private let outBuffer: UnsafeMutableRawBufferPointer
    private var isOpen = true
    private(set) var position: UInt64 = 0

    /// - Parameters:
    ///   - file: Receives the compressed bytes.
    ///   - level: zlib level, 0 (store) … 9 (smallest); -1 for zlib's default (6).
    init(file: AtomicFileOutput, level: Int32, bufferSize: Int) throws {
        self.file = file
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        self.outBuffer = .allocate(byteCount: bufferSize, alignment: 16)
        // windowBits 15 + 16: a gzip wrapper (header with mtime 0, no name) around a raw deflate stream.
        let status = deflateInit2_(
            stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            outBuffer.deallocate()
            file.abort()
            throw ExportError.compression("deflateInit2", status: status)
        }
    }

    deinit {
        abort()
        stream.deinitialize(count: 1)
        stream.deallocate()
        outBuffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else { throw ExportError.writerClosed("gzip stream") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, Int(UInt32.max >> 1))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(chunk)
            try pump(flush: Z_NO_FLUSH)
            offset += chunk
        }
        position += UInt64(bytes.count)
    }

    func finish() throws -> (url: URL, size: UInt64, sha256: String) {
        guard isOpen else { throw ExportError.writerClosed("gzip stream") }
        do {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            try pump(flush: Z_FINISH)
            deflateEnd(stream)
            isOpen = false
            return try file.finish()
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        guard isOpen else { return }
        isOpen = false
        deflateEnd(stream)
        file.abort()
    }

    /// Runs deflate until it has consumed all input (or, with `Z_FINISH`, written the trailer).
    private func pump(flush: Int32) throws {
        while true {
            stream.pointee.next_out = outBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(outBuffer.count)
            let status = deflate(stream, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ExportError.compression("deflate", status: status)
            }
            let produced = outBuffer.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try file.write(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced]))
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                return
            }
        }
    }
}
