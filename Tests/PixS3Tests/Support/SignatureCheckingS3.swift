import Foundation
import PixS3
import PixTestSupport

/// A second moto_server, one that checks every request's SigV4 signature the way S3 does (moto recomputes it
/// with botocore's signer). moto checks signatures only after its first `INITIAL_NO_AUTH_ACTION_COUNT`
/// requests, and only for keys its IAM knows: those first requests create an IAM user with an allow-all
/// policy and an access key, then a role the user may assume for temporary credentials (session token).
enum SignatureCheckingS3 {
    struct Server: Sendable {
        let endpoint: String
        let region: String
        /// The IAM user's long-term key pair.
        let credentials: S3Credentials
        /// Temporary credentials from STS AssumeRole (with a session token).
        let temporaryCredentials: S3Credentials
    }

    static func server() throws -> Server { try shared.get() }

    private static let shared: Result<Server, any Error> = Result {
        let bootstrapCalls = 3
        let port = try TestS3.startMoto(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": String(bootstrapCalls)])
        let endpoint = "http://127.0.0.1:\(port)/"
        let allowAll = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#

        func call(_ service: String, _ fields: [(String, String)], as user: (String, String)) throws -> String {
            let response = try PlainCurl.request(
                endpoint, method: "POST", form: PlainCurl.form(fields),
                sigv4: (provider: "aws:amz:us-east-1:\(service)", user: user.0, password: user.1))
            guard response.status == 200 else {
                throw TestSupportError("moto \(service) \(fields[0].1) answered \(response.status): \(response.text)")
            }
            return response.text
        }
        func element(_ name: String, in xml: String) throws -> String {
            guard let start = xml.range(of: "<\(name)>"),
                let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex)
            else { throw TestSupportError("no <\(name)> in \(xml.prefix(500))") }
            return String(xml[start.upperBound..<end.lowerBound])
        }

        // The unchecked bootstrap requests (any credentials do).
        let anyone = ("AKIABOOTSTRAP", "bootstrap")
        let created = try call(
            "iam", [("Action", "CreateUser"), ("UserName", "pixcrawl"), ("Version", "2010-05-08")], as: anyone)
        let userARN = try element("Arn", in: created)
        _ = try call(
            "iam",
            [
                ("Action", "PutUserPolicy"), ("UserName", "pixcrawl"), ("PolicyName", "all"), ("PolicyDocument", allowAll),
                ("Version", "2010-05-08"),
            ], as: anyone)
        let key = try call(
            "iam", [("Action", "CreateAccessKey"), ("UserName", "pixcrawl"), ("Version", "2010-05-08")], as: anyone)
        let user = (try element("AccessKeyId", in: key), try element("SecretAccessKey", in: key))

        // From here on every request is checked: the user's key signs the rest.
        let trust =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":""# + userARN
            + #""},"Action":"sts:AssumeRole"}]}"#
        let role = try call(
            "iam",
            [
                ("Action", "CreateRole"), ("RoleName", "pixcrawl-role"), ("AssumeRolePolicyDocument", trust),
                ("Version", "2010-05-08"),
            ], as: user)
        _ = try call(
            "iam",
            [
                ("Action", "PutRolePolicy"), ("RoleName", "pixcrawl-role"), ("PolicyName", "all"), ("PolicyDocument", allowAll),
                ("Version", "2010-05-08"),
            ], as: user)
        let assumed = try call(
            "sts",
            [
                ("Action", "AssumeRole"), ("RoleArn", try element("Arn", in: role)), ("RoleSessionName", "tests"),
                ("Version", "2011-06-15"),
            ], as: user)
        return Server(
            endpoint: "http://127.0.0.1:\(port)", region: "us-east-1",
            credentials: try S3Credentials(accessKeyID: user.0, secretAccessKey: user.1),
            temporaryCredentials: try S3Credentials(
                accessKeyID: try element("AccessKeyId", in: assumed),
                secretAccessKey: try element("SecretAccessKey", in: assumed),
                sessionToken: try element("SessionToken", in: assumed)))
    }
}
