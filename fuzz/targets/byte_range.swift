// fuzz-sources: Sources/PixServe/Downloads/ByteRange.swift
// The `Range` header of archive and shard downloads: whatever the header, a 206 names bytes inside the content.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let header = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for contentSize in [0, 1, 100, 1 << 40, Int.max] {
        if case .partial(let range) = ByteRange(header: header, size: contentSize) {
            precondition(range.lowerBound >= 0 && range.upperBound < contentSize, "a range outside the content")
        }
    }
    return 0
}
