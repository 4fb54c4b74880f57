import PixS3
import PixTestSupport

/// A fresh bucket of the test S3 server, under the key prefix `p`.
enum TestBucket {
    static func make(_ label: String) throws -> S3Client {
        let s3 = try TestS3.server()
        let environment = ["AWS_ACCESS_KEY_ID": s3.accessKey, "AWS_SECRET_ACCESS_KEY": s3.secretKey]
        let location = try S3Location.parse(
            "s3://\(TestS3.bucketName(label))/p?endpoint=\(s3.endpoint)&region=\(s3.region)", environment: environment)
        let bucket = S3Client(location: location, credentials: try S3Credentials.fromEnvironment(environment))
        _ = try bucket.createBucket()
        return bucket
    }
}
