import Foundation
import Hummingbird
import Logging
import PixCoordinate
import PixCore
import PixStore

/// The body of `POST /v1/jobs/{id}/validations` (optional): new rules for the job's stored images. Rules not
/// given keep the job's own.
struct ValidationRequest: Decodable, Sendable {
    var name: String?
    var rules: RulesRequest?

    init(name: String? = nil, rules: RulesRequest? = nil) {
        self.name = name
        self.rules = rules
    }

    /// The rules to apply, `base` (the job's rules) with the request's applied.
    /// - Throws: ``APIError`` 422 naming the field at fault.
    func validatedRules(base: ValidationRules) throws -> ValidationRules {
        guard let rules else { return base }
        return try rules.applied(to: base)
    }

    /// The run's name, trimmed; `nil` when absent or blank.
    func validatedName() throws -> String? {
        guard let raw = name else { return nil }
        try APIBounds.check(raw, APIBounds.validationName, field: "name")
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// A re-validation run as the API shows it.
struct ValidationView: Encodable, Sendable {
    var id: Int64
    var jobId: Int64
    var name: String?
    var status: ValidationJobStatus
    var rules: JobView.RulesView
    var totalImages: Int
    var validatedImages: Int
    var invalidImages: Int
    var progress: Int
    var errorMessage: String?
    var startedAt: Date?
    var completedAt: Date?
    var createdAt: Date

    init(_ record: ValidationJobRecord) {
        self.id = record.id
        self.jobId = record.crawlJobID
        self.name = record.name
        self.status = record.status
        self.rules = JobView.RulesView(record.rules)
        self.totalImages = record.totalImages
        self.validatedImages = record.validatedImages
        self.invalidImages = record.invalidImages
        self.progress = record.progress
        self.errorMessage = record.errorMessage
        self.startedAt = record.startedAt
        self.completedAt = record.completedAt
        self.createdAt = record.createdAt
    }
}

extension PixServer {
    /// The validation run, when the caller owns its crawl job; otherwise 404.
    func ownedValidation(_ id: Int64, caller: Caller) async throws -> ValidationJobRecord {
        guard let record = try await store.validationJob(id: id) else { throw APIError.notFound("validation \(id)") }
        do {
            _ = try await ownedJob(record.crawlJobID, caller: caller)
        } catch is APIError {
            throw APIError.notFound("validation \(id)")
        }
        return record
    }

    /// `POST /v1/jobs/{id}/validations`, `GET /v1/validations/{id}`.
    ///
    /// A re-validation runs within the request (it reads stored files and downloads nothing) and answers with
    /// the finished run; ``ValidationRun`` records it and logs `validation.run`.
    func addValidationRoutes(to api: RouterGroup<PixRequestContext>) {
        api.post("jobs/{id}/validations") { request, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            var body = ValidationRequest()
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                body = try await APIJSON.decode(ValidationRequest.self, from: request, limit: configuration.maxBodyBytes)
            }
            let rules = try body.validatedRules(base: job.rules)
            let name = try body.validatedName()
            guard let blobs else { throw APIError.notImplemented("stored image files are not available on this server") }
            let run = ValidationRun(store: store, blobs: blobs, pool: validationPool, logger: logger)
            let record = try await run.run(crawlJobID: job.id, rules: rules, actor: caller.profile.id, name: name)
            return JSONResponse(value: ValidationView(record), status: .created)
        }
        api.get("validations/{id}") { _, context in
            let caller = try context.requireCaller()
            let record = try await ownedValidation(try Self.pathID(context, "validation"), caller: caller)
            return JSONResponse(value: ValidationView(record))
        }
    }
}
