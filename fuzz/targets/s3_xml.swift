// fuzz-sources: Sources/PixS3/S3XML.swift Sources/PixS3/S3ListPage.swift Sources/PixS3/CivilTime.swift
// fuzz-sources: Sources/PixS3/ObjectInfo.swift Sources/PixS3/S3Error.swift Sources/PixCore/CivilCalendar.swift
// S3's answers: a ListObjectsV2 page, an error document, a multipart upload id, and the input as an HTTP date
// (`Last-Modified`).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let xml = Substring(text)
    if let page = try? S3ListPage(parsing: xml, bucket: "fuzz") {
        precondition(page.objects.count <= S3XML.elements("Contents", in: xml).count)
    }
    for name in ["Code", "Message", "UploadId", "ETag", "Key"] {
        _ = S3XML.text(name, in: xml)
    }
    _ = S3XML.etag(text)
    _ = CivilTime.parseHTTPDate(text)
    _ = CivilTime.parseISO8601(text)
    return 0
}
