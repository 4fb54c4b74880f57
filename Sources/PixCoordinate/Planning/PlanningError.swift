/// A submission the planner refuses, naming the field that is wrong.
public struct PlanningError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidField
        case unknownSource
    }

    private let code: Code
    /// The submission field at fault, as the API and CLI name it (`keywords`, `max_images`, `chunk_size`, …).
    public let field: String
    /// What is wrong and what is accepted.
    public let reason: String

    private init(_ code: Code, field: String, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    /// `field` has a value outside what is accepted.
    public static func invalid(_ field: String, _ reason: String) -> PlanningError {
        PlanningError(.invalidField, field: field, reason: reason)
    }

    /// The source specification at `index` of the submission's sources could not be turned into a source.
    public static func unknownSource(_ spec: String, at index: Int, _ reason: String) -> PlanningError {
        PlanningError(.unknownSource, field: "sources[\(index)]", reason: "'\(spec)': \(reason)")
    }

    /// True when a source specification was refused.
    public var isUnknownSource: Bool { code == .unknownSource }

    /// `field: reason`.
    public var description: String { "\(field): \(reason)" }
}
