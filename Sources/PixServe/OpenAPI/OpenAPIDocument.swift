import Foundation
import PixCoordinate
import PixCore
import PixExport
import PixSources

/// The OpenAPI 3.1 description of the API, rendered from ``APICatalog``.
public enum OpenAPIDocument {
    /// The whole document.
    public static func make(version: String = PixCrawlVersion.current) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in APICatalog.operations {
            var item: [String: JSONValue] = [:]
            if case .object(let existing) = paths[operation.path] ?? .null { item = existing }
            item[operation.method.lowercased()] = render(operation)
            paths[operation.path] = .object(item)
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "PixCrawler API",
                "version": .string(version),
                "description": .string(
                    "Owner-scoped API of PixCrawler: projects, crawl jobs, images, exports and downloads. "
                        + "Errors are JSON {error, field, reason}. Another user's resources answer 404."),
            ],
            "paths": .object(paths),
            "components": [
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer", "description": "An API token (pxc_…)"],
                    "session": ["type": "apiKey", "in": "cookie", "name": .string(Authenticator.cookieName)],
                ],
                "schemas": .object(schemas),
            ],
        ]
    }

    /// `METHOD path` of every documented operation.
    public static var operationKeys: Set<String> {
        Set(APICatalog.operations.map { "\($0.method) \($0.path)" })
    }

    static func render(_ operation: APIOperation) -> JSONValue {
        var parameters: [JSONValue] = []
        for name in pathParameters(operation.path) {
            let schema: JSONValue =
                switch name {
                case "id": APIBounds.schema(APIBounds.id)
                case "token": APIBounds.schema(APIBounds.downloadToken)
                default: string
                }
            parameters.append(["name": .string(name), "in": "path", "required": true, "schema": schema])
        }
        for query in operation.query {
            var schema: [String: JSONValue] = ["type": .string(query.type)]
            if let range = query.range {
                schema["minimum"] = .int(range.lowerBound)
                schema["maximum"] = .int(range.upperBound)
            }
            if let values = query.values { schema["enum"] = .array(values.map { .string($0) }) }
            parameters.append([
                "name": .string(query.name), "in": "query", "required": false,
                "description": .string(query.description), "schema": .object(schema),
            ])
        }
        var responses: [String: JSONValue] = [:]
        for (code, spec) in operation.responses {
            var response: [String: JSONValue] = ["description": .string(spec.description)]
            if let schema = spec.schema {
                response["content"] = [
                    .init(stringLiteral: spec.mediaType): ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]
                ]
            } else if !spec.mediaType.isEmpty {
                response["content"] = [.init(stringLiteral: spec.mediaType): [:]]
            }
            responses["\(code)"] = .object(response)
        }
        var result: [String: JSONValue] = [
            "summary": .string(operation.summary),
            "operationId": .string(operationID(operation)),
            "tags": [.string(operation.tag)],
            "responses": .object(responses),
            "security": operation.authenticated ? [["bearer": []], ["session": []]] : [],
        ]
        if !parameters.isEmpty { result["parameters"] = .array(parameters) }
        if operation.requestSchema == listUpload {
            // A URL-list upload is the list file itself, streamed.
            let file: JSONValue = ["schema": ["type": "string", "format": "binary"]]
            result["requestBody"] = [
                "required": true,
                "content": [
                    "text/csv": file, "text/tab-separated-values": file, "application/x-ndjson": file, "text/plain": file,
                ],
            ]
        } else if let schema = operation.requestSchema {
            result["requestBody"] = [
                "required": .bool(!optionalBodies.contains(schema)),
                "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]],
            ]
        }
        return .object(result)
    }

    /// Request bodies that may be left out (the defaults apply).
    static let optionalBodies: Set<String> = ["LinkRequest", "ValidationRequest"]

    /// The request "schema" of `POST /v1/lists`: a list file, not JSON.
    static let listUpload = "URLListUpload"

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    static func operationID(_ operation: APIOperation) -> String {
        let words = operation.path.split(separator: "/").map { part -> String in
            let cleaned = part.replacingOccurrences(of: "{", with: "by_").replacingOccurrences(of: "}", with: "")
                .replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
            return cleaned
        }
        return ([operation.method.lowercased()] + (words.isEmpty ? ["root"] : words)).joined(separator: "_")
    }

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    /// A request body object: the properties not in `required` may also be `null`, which the server reads as
    /// absent (as `decodeIfPresent` does).
    static func input(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        object(
            properties.reduce(into: [:]) { result, property in
                result[property.key] = required.contains(property.key) ? property.value : orNull(property.value)
            }, required: required)
    }

    /// `schema`, or `null`.
    static func orNull(_ schema: JSONValue) -> JSONValue {
        guard case .object(var members) = schema else { return schema }
        switch members["type"] {
        case .string(let type)?: members["type"] = [.string(type), "null"]
        default: return ["anyOf": [schema, ["type": "null"]]]
        }
        if case .array(let values)? = members["enum"] { members["enum"] = .array(values + [.null]) }
        return .object(members)
    }

    /// A request body object of optional `properties` of which at least one must be given (and not `null`).
    static func anyRequired(_ properties: [String: JSONValue]) -> JSONValue {
        guard case .object(var members) = input(properties) else { return input(properties) }
        members["anyOf"] = .array(
            properties.keys.sorted().map { key -> JSONValue in
                ["required": [.string(key)], "properties": [key: properties[key] ?? [:]]]
            })
        return .object(members)
    }

    /// Validation rules as a job or a re-validation run takes them, with the bounds ``PixCore/ValidationRules``
    /// checks.
    static var rules: JSONValue {
        let aspect: JSONValue = [
            "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": .int(Int(ValidationRules.aspectRatioLimit)),
        ]
        return input([
            "formats": [
                "type": "array", "minItems": 1,
                "items": enumeration(ImageFormat.decodable.map(\.rawValue).sorted()),
            ],
            "min_width": APIBounds.schema(ValidationRules.sideRange),
            "min_height": APIBounds.schema(ValidationRules.sideRange),
            "max_width": APIBounds.schema(ValidationRules.sideRange),
            "max_height": APIBounds.schema(ValidationRules.sideRange),
            "min_bytes": APIBounds.schema(ValidationRules.byteRange),
            "max_bytes": APIBounds.schema(1...ValidationRules.byteRange.upperBound),
            "min_aspect_ratio": aspect, "max_aspect_ratio": aspect,
            "depth": enumeration(ValidationDepth.allCases.map(\.rawValue)),
        ])
    }

    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let number: JSONValue = ["type": "number"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let dateTime: JSONValue = ["type": "string", "format": "date-time"]
    static func nullable(_ type: String) -> JSONValue { ["type": [.string(type), "null"]] }
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }
    static func enumeration(_ values: [String]) -> JSONValue { ["type": "string", "enum": .array(values.map { .string($0) })] }

    static var schemas: [String: JSONValue] {
        let limits = JobPlanner.Limits()
        return [
            "Error": object(
                ["error": string, "field": nullable("string"), "reason": string], required: ["error", "field", "reason"]),
            "Health": object(["status": string]),
            "Readiness": object(["status": string, "checks": ["type": "object"], "problems": array(string)]),
            "Page": object(
                ["items": array(["type": "object"]), "limit": integer, "offset": integer, "next_after_id": integer],
                required: ["items"]),
            "Profile": object([
                "id": string, "email": string, "full_name": nullable("string"),
                "role": enumeration(ProfileRole.allCases.map(\.rawValue)), "created_at": dateTime,
            ]),
            "TokenRequest": input(["name": APIBounds.schema(APIBounds.tokenName)], required: ["name"]),
            "CreatedToken": object(["token": string, "api_token": ["type": "object"]], required: ["token"]),
            "ProjectCreate": input(
                [
                    "name": APIBounds.schema(APIBounds.projectName),
                    "description": APIBounds.schema(APIBounds.projectDescription),
                ], required: ["name"]),
            "ProjectUpdate": anyRequired([
                "name": APIBounds.schema(APIBounds.projectName),
                "description": APIBounds.schema(APIBounds.projectDescription),
                "status": enumeration(ProjectStatus.allCases.map(\.rawValue)),
            ]),
            "Project": object([
                "id": integer, "name": string, "description": nullable("string"), "user_id": string,
                "status": enumeration(ProjectStatus.allCases.map(\.rawValue)), "created_at": dateTime,
                "updated_at": dateTime,
            ]),
            "JobSubmission": input(
                [
                    "project_id": APIBounds.schema(APIBounds.id), "name": string,
                    "keywords": [
                        "type": "array", "items": APIBounds.schema(limits.keyword), "minItems": 1,
                        "maxItems": .int(limits.maxKeywords),
                    ],
                    "max_images": [
                        "type": "integer", "minimum": .int(limits.maxImages.lowerBound),
                        "maximum": .int(limits.maxImages.upperBound),
                    ],
                    "sources": [
                        "type": "array", "minItems": 1,
                        "items": [
                            "anyOf": [
                                enumeration(JobRequest.apiSourceNames),
                                ["type": "string", "pattern": .string(JobRequest.listSourcePattern)],
                            ],
                            "description": .string(
                                "one of \(JobRequest.apiSourceNames.joined(separator: ", ")), or list:ID (an uploaded "
                                    + "URL list, optionally list:ID?url=COL&caption=COL&hash=COL)"),
                        ],
                    ],
                    "url_col": APIBounds.schema(APIBounds.columnName),
                    "caption_col": APIBounds.schema(APIBounds.columnName),
                    "hash_col": APIBounds.schema(APIBounds.columnName),
                    "keep_columns": [
                        "type": "array", "items": APIBounds.schema(APIBounds.columnName),
                        "description": "columns of the list rows stored with each image, or [\"all\"] for every column",
                    ],
                    "rules": rules,
                    "chunk_size": [
                        "type": "integer", "minimum": .int(limits.chunkSize.lowerBound),
                        "maximum": .int(limits.chunkSize.upperBound),
                    ],
                    "over_fetch": ["type": "number", "minimum": 1, "maximum": .int(Int(limits.maxOverFetch))],
                    "download_width": [
                        "type": "integer", "minimum": .int(SourceSpec.thumbnailWidths.lowerBound),
                        "maximum": .int(SourceSpec.thumbnailWidths.upperBound),
                    ],
                    "priority": [
                        "type": "integer", "minimum": .int(limits.priority.lowerBound),
                        "maximum": .int(limits.priority.upperBound),
                    ],
                    "resize": APIBounds.resizeSchema,
                ], required: ["project_id", "keywords", "max_images"]),
            "ValidationRequest": input(["name": APIBounds.schema(APIBounds.validationName), "rules": rules]),
            "Validation": object([
                "id": integer, "job_id": integer, "name": nullable("string"),
                "status": enumeration(ValidationJobStatus.allCases.map(\.rawValue)), "rules": ["type": "object"],
                "total_images": integer, "validated_images": integer, "invalid_images": integer,
                "progress": ["type": "integer", "minimum": 0, "maximum": 100], "error_message": nullable("string"),
                "started_at": nullable("string"), "completed_at": nullable("string"), "created_at": dateTime,
            ]),
            "Job": object([
                "id": integer, "project_id": integer, "name": string, "keywords": array(string), "max_images": integer,
                "sources": array(string), "status": enumeration(JobStatus.allCases.map(\.rawValue)),
                "progress": ["type": "integer", "minimum": 0, "maximum": 100],
                "counters": object([
                    "total_images": integer, "downloaded_images": integer, "valid_images": integer,
                    "total_chunks": integer, "pending_chunks": integer, "active_chunks": integer,
                    "completed_chunks": integer, "failed_chunks": integer, "cancelled_chunks": integer,
                ]),
                "keyword_progress": array(
                    object([
                        "keyword": string, "total_chunks": integer, "completed_chunks": integer, "progress": integer,
                    ])),
                "resize": orNull(APIBounds.resizeSchema),
            ]),
            "URLList": object([
                "id": string, "sha256": string, "format": enumeration(["text", "csv", "tsv", "jsonl"]),
                "columns": array(string), "rows": integer, "bytes": integer, "created_at": dateTime,
            ]),
            "Retry": object(["retried_chunks": integer, "job": ["$ref": "#/components/schemas/Job"]]),
            "ErrorSummary": object([
                "job_id": integer, "total": integer,
                "categories": array(object(["category": enumeration(ErrorCategory.allCases.map(\.rawValue)), "count": integer])),
                "recent": array(["type": "object"]),
            ]),
            "Image": object([
                "id": integer, "job_id": integer, "original_url": string, "width": integer, "height": integer,
                "file_size": integer, "format": string, "sha256": string, "keyword": string, "source": string,
                "license": nullable("string"), "creator": nullable("string"), "is_valid": boolean, "file_url": string,
            ]),
            "ExportRequest": input(
                [
                    "format": enumeration(ExportRequest.formats), "layout": enumeration(ExportRequest.layouts),
                    "expires_in_hours": APIBounds.schema(APIBounds.linkHours),
                    "min_width": APIBounds.schema(APIBounds.exportMinSide),
                    "min_height": APIBounds.schema(APIBounds.exportMinSide),
                    "dedup_near": APIBounds.schema(APIBounds.dedupNear),
                    "split": string, "seed": APIBounds.schema(APIBounds.seed),
                    "shard_size": APIBounds.schema(APIBounds.shardSize),
                    "resize": APIBounds.resizeSchema,
                    "name": APIBounds.schema(APIBounds.exportName),
                ], required: ["format"]),
            "LinkRequest": input(["expires_in_hours": APIBounds.schema(APIBounds.linkHours)]),
            "DownloadLink": object(["export_id": integer, "download_url": string, "expires_at": dateTime]),
            "Export": object([
                "id": integer, "job_id": integer, "format": string,
                "status": enumeration(ExportStatus.allCases.map(\.rawValue)), "progress": integer,
                "download_url": nullable("string"), "expires_at": nullable("string"),
            ]),
        ]
    }
}
