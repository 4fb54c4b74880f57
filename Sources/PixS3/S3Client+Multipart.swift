import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension S3Client {
    /// Uploads `size` bytes of an open file in parts: `CreateMultipartUpload`, one `UploadPart` per part,
    /// `CompleteMultipartUpload`; any failure after the upload was created sends `AbortMultipartUpload` so no
    /// orphaned parts are left to bill for.
    func multipartUpload(key: String, descriptor: Int32, size: Int64, contentType: String?) throws -> PutResult {
        var create = S3Request(operation: "CreateMultipartUpload", method: "POST", key: key)
        create.query = [(name: "uploads", value: "")]
        create.idempotent = false  // a repeated request would leave a second, orphaned upload
        if let contentType { create.headers.append((name: "Content-Type", value: contentType)) }
        let created = try transport.perform(create)
        guard (200..<300).contains(created.status) else { throw httpError(created, create) }
        guard let uploadID = S3XML.text("UploadId", in: created.bodyText), !uploadID.isEmpty else {
            throw S3Error(
                code: .invalidResponse, message: "CreateMultipartUpload answered without an UploadId",
                operation: "CreateMultipartUpload", bucket: location.bucket, key: key)
        }

        do {
            let partSize = configuration.partSize(forFileOf: size)
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < size || etags.isEmpty {
                let length = min(partSize, size - offset)
                var part = S3Request(operation: "UploadPart", method: "PUT", key: key)
                part.query = [(name: "partNumber", value: String(etags.count + 1)), (name: "uploadId", value: uploadID)]
                part.body = .file(descriptor: descriptor, offset: offset, length: length)
                part.payloadHash = try payloadHash(descriptor, offset: offset, length: length, key: key)
                let response = try transport.perform(part)
                guard (200..<300).contains(response.status) else { throw httpError(response, part) }
                guard let etag = response.headers["etag"], !etag.isEmpty else {
                    throw S3Error(
                        code: .invalidResponse, message: "UploadPart \(etags.count + 1) answered without an ETag",
                        operation: "UploadPart", bucket: location.bucket, key: key)
                }
                etags.append(etag)
                offset += length
            }

            var document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for (index, etag) in etags.enumerated() {
                document += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
            }
            document += "</CompleteMultipartUpload>"
            let body = Array(document.utf8)
            var complete = S3Request(operation: "CompleteMultipartUpload", method: "POST", key: key)
            complete.query = [(name: "uploadId", value: uploadID)]
            complete.headers.append((name: "Content-Type", value: "application/xml"))
            complete.payloadHash = SigV4.sha256Hex(body)
            let response = try body.withUnsafeBytes { buffer in
                complete.body = .bytes(buffer)
                return try transport.perform(complete)
            }
            let failed = !S3XML.elements("Error", in: response.bodyText).isEmpty
            if (200..<300).contains(response.status) && !failed {
                let etag = S3XML.text("ETag", in: response.bodyText)
                return PutResult(etag: S3XML.etag(etag), byteCount: size, partCount: etags.count)
            }
            // A retried Complete whose first attempt succeeded finds the upload gone: the object tells.
            if response.status == 404, S3XML.text("Code", in: response.bodyText) == "NoSuchUpload",
                let stored = try headObject(key: key), stored.size == size, stored.etag.hasSuffix("-\(etags.count)")
            {
                return PutResult(etag: stored.etag, byteCount: size, partCount: etags.count)
            }
            throw httpError(response, complete)
        } catch {
            abortMultipartUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Best effort: a failed abort leaves parts that a bucket lifecycle rule can clean up.
    private func abortMultipartUpload(key: String, uploadID: String) {
        var abort = S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: key)
        abort.query = [(name: "uploadId", value: uploadID)]
        let response = try? transport.perform(abort)
        if let response, !(200..<300).contains(response.status) && response.status != 404 {
            transport.logger.warning(
                "AbortMultipartUpload failed",
                metadata: ["pixcrawl.s3.key": "\(key)", "pixcrawl.s3.status": "\(response.status)"])
        }
    }
}
