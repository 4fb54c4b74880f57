// fuzz-sources: Sources/PixSources/Support/ListRecords.swift Sources/PixSources/Support/ListFile.swift
// fuzz-sources: Sources/PixSources/Support/CSVRecord.swift Sources/PixSources/Support/JSONObjectFields.swift
// fuzz-sources: Sources/PixSources/Support/JSONScalar.swift Sources/PixCore/Lists/ListObjectStore.swift
// URL lists (txt, csv, tsv, jsonl): format detection, the CSV header, the records and their offsets, fields. A
// record read from the offset the row index remembers must be the record the full scan saw, and the scan must not
// depend on the block size it reads with.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

private let path: String = {
    let path = "\(NSTemporaryDirectory())/pixcrawl-fuzz-url-list-\(getpid())"
    atexit { unlink("\(NSTemporaryDirectory())/pixcrawl-fuzz-url-list-\(getpid())") }
    return path
}()

private struct Record: Equatable {
    var bytes: [UInt8]
    var start: Int64
}

private func records(_ file: ListFile, _ format: URLListFormat, from offset: Int64, blockSize: Int) throws -> [Record] {
    var found: [Record] = []
    try ListRecords.forEachDataRecord(file, format: format, from: offset, blockSize: blockSize) { record, start in
        found.append(Record(bytes: Array(record), start: start))
        return true
    }
    return found
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let output = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let written = bytes.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
    guard output >= 0, written == bytes.count, close(output) == 0 else { fatalError("cannot write \(path)") }
    guard let file = try? ListFile(path: path) else { fatalError("cannot open \(path)") }
    let detected = ListRecords.format(path: "list", prefix: Array(bytes.prefix(64 * 1024)))
    for format in URLListFormat.allCases {
        do {
            if format == .csv || format == .tsv { _ = try ListRecords.header(file, format: format) }
            let whole = try records(file, format, from: 0, blockSize: 4096)
            let small = try records(file, format, from: 0, blockSize: 7)
            precondition(small == whole, "the block size changed the records")
            for (index, record) in whole.enumerated() where index % 16 == 0 || index == whole.count - 1 {
                let rest = try records(file, format, from: record.start, blockSize: 64)
                precondition(rest == Array(whole[index...]), "a record offset does not lead back to its record")
            }
            if format == detected {
                for record in whole {
                    switch format {
                    case .text: break
                    case .csv, .tsv: _ = CSVRecord.fields(record.bytes[...], separator: ListRecords.separator(format))
                    case .jsonl: _ = try? JSONDecoder().decode(JSONObjectFields.self, from: Data(record.bytes))
                    }
                }
            }
        } catch {
            // Only a line over 8 MiB is refused, and inputs are far smaller.
            fatalError("reading the list failed: \(error)")
        }
    }
    return 0
}
