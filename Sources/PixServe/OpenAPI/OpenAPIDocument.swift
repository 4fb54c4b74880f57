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
            parameters.append([
                "name": .string(name), "in": "path", "required": true,
                "schema": ["type": name == "token" ? "string" : "integer"],
            ])
        }
        for query in operation.query {
            parameters.append([
                "name": .string(query.name), "in": "query", "required": false,
                "description": .string(query.description), "schema": ["type": .string(query.type)],
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
                "required": .bool(schema != "LinkRequest"),
                "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]],
            ]
        }
        return .object(result)
    }

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
            "TokenRequest": object(["name": string], required: ["name"]),
            "CreatedToken": object(["token": string, "api_token": ["type": "object"]], required: ["token"]),
            "ProjectCreate": object(["name": string, "description": string], required: ["name"]),
            "ProjectUpdate": object([
                "name": string, "description": string, "status": enumeration(ProjectStatus.allCases.map(\.rawValue)),
            ]),
            "Project": object([
                "id": integer, "name": string, "description": nullable("string"), "user_id": string,
                "status": enumeration(ProjectStatus.allCases.map(\.rawValue)), "created_at": dateTime,
                "updated_at": dateTime,
            ]),
            "JobSubmission": object(
                [
                    "project_id": integer, "name": string,
                    "keywords": ["type": "array", "items": string, "minItems": 1, "maxItems": .int(limits.maxKeywords)],
                    "max_images": [
                        "type": "integer", "minimum": .int(limits.maxImages.lowerBound),
                        "maximum": .int(limits.maxImages.upperBound),
                    ],
                    "sources": array([
                        "type": "string",
                        "description": .string(
                            "one of \(JobRequest.apiSourceNames.joined(separator: ", ")), or list:ID (an uploaded "
                                + "URL list, optionally list:ID?url=COL&caption=COL&hash=COL)"),
                    ]),
                    "url_col": string, "caption_col": string, "hash_col": string,
                    "keep_columns": array([
                        "type": "string",
                        "description": "a column of the list rows stored with each image, or all (every column)",
                    ]),
                    "rules": object([
                        "formats": array(enumeration(ImageFormat.decodable.map(\.rawValue).sorted())),
                        "min_width": integer, "min_height": integer,
                        "max_width": integer, "max_height": integer, "min_bytes": integer, "max_bytes": integer,
                        "min_aspect_ratio": number, "max_aspect_ratio": number,
                        "depth": enumeration(ValidationDepth.allCases.map(\.rawValue)),
                    ]),
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
                ], required: ["project_id", "keywords", "max_images"]),
            "ValidationRequest": object([
                "name": string,
                "rules": object([
                    "formats": array(enumeration(["jpeg", "png", "webp"])), "min_width": integer, "min_height": integer,
                    "max_width": integer, "max_height": integer, "min_bytes": integer, "max_bytes": integer,
                    "min_aspect_ratio": number, "max_aspect_ratio": number,
                    "depth": enumeration(ValidationDepth.allCases.map(\.rawValue)),
                ]),
            ]),
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
            "ExportRequest": object(
                [
                    "format": enumeration(ExportRequest.formats), "layout": enumeration(ExportRequest.layouts),
                    "expires_in_hours": ["type": "integer", "minimum": 1, "maximum": 720],
                    "min_width": integer, "min_height": integer, "dedup_near": ["type": "integer", "minimum": 0, "maximum": 64],
                    "split": string, "seed": ["type": "integer", "minimum": 0],
                    "shard_size": ["type": "integer", "minimum": 1, "maximum": 1_000_000],
                    "resize": object(
                        [
                            "size": ["type": "integer", "minimum": 1, "maximum": 16384],
                            "mode": enumeration(ResizeMode.allCases.map(\.rawValue)),
                            "only_if_bigger": boolean, "encode": enumeration(ResizeEncoding.allCases.map(\.rawValue)),
                            "quality": ["type": "integer", "minimum": 1, "maximum": 100],
                        ], required: ["size"]),
                    "name": ["type": "string", "maxLength": 200],
                ], required: ["format"]),
            "LinkRequest": object(["expires_in_hours": ["type": "integer", "minimum": 1, "maximum": 720]]),
            "DownloadLink": object(["export_id": integer, "download_url": string, "expires_at": dateTime]),
            "Export": object([
                "id": integer, "job_id": integer, "format": string,
                "status": enumeration(ExportStatus.allCases.map(\.rawValue)), "progress": integer,
                "download_url": nullable("string"), "expires_at": nullable("string"),
            ]),
        ]
    }
}
