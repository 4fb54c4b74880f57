import Foundation

/// One page of a `ListObjectsV2` answer: its objects and the token that asks for the next page.
struct S3ListPage {
    /// The objects of the page, in the order S3 lists them.
    var objects: [ObjectInfo]
    /// The continuation token of the next page; `nil` on the last page.
    var continuationToken: String?

    /// Reads a `ListBucketResult` document.
    /// - Parameters:
    ///   - xml: the answer's body.
    ///   - bucket: the bucket listed (named in errors).
    /// - Throws: ``S3Error`` with ``S3Error/Code/invalidResponse`` when an entry lacks its key or size, or a
    ///   truncated page has no continuation token.
    init(parsing xml: Substring, bucket: String) throws(S3Error) {
        let urlEncoded = S3XML.text("EncodingType", in: xml) == "url"
        objects = []
        for entry in S3XML.elements("Contents", in: xml) {
            guard let rawKey = S3XML.text("Key", in: entry),
                let key = urlEncoded ? S3XML.formDecode(rawKey) : rawKey,
                let size = S3XML.text("Size", in: entry).flatMap({ Int64($0) })
            else {
                throw S3Error(
                    code: .invalidResponse, message: "a ListObjectsV2 entry lacks a Key or Size",
                    operation: "ListObjectsV2", bucket: bucket)
            }
            let modified = S3XML.text("LastModified", in: entry).flatMap { CivilTime.parseISO8601($0) }
            objects.append(
                ObjectInfo(
                    key: key, size: size, lastModified: modified ?? Date(timeIntervalSince1970: 0),
                    etag: S3XML.etag(S3XML.text("ETag", in: entry))))
        }
        continuationToken = nil
        if S3XML.text("IsTruncated", in: xml) == "true" {
            guard let next = S3XML.text("NextContinuationToken", in: xml), !next.isEmpty else {
                throw S3Error(
                    code: .invalidResponse, message: "a truncated ListObjectsV2 page has no NextContinuationToken",
                    operation: "ListObjectsV2", bucket: bucket)
            }
            continuationToken = next
        }
    }
}
