/// One HTTP header field.
public struct HTTPHeader: Hashable, Sendable, CustomStringConvertible {
    /// The field name. Response headers carry lowercased names.
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name: value`.
    public var description: String { "\(name): \(value)" }
}

/// An ordered list of HTTP header fields with case-insensitive lookup.
public struct HTTPHeaders: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The fields in the order they were received or added.
    public private(set) var fields: [HTTPHeader]

    /// Creates a header list.
    public init(_ fields: [HTTPHeader] = []) {
        self.fields = fields
    }

    /// Creates a header list from literal pairs, e.g. `["Authorization": "Bearer …"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPHeader(name: $0.0, value: $0.1) }
    }

    /// Appends one field (repeated names are kept as separate fields).
    public mutating func add(name: String, value: String) {
        fields.append(HTTPHeader(name: name, value: value))
    }

    /// Every value of the named field, in order; the name is matched case-insensitively.
    public func values(for name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// The named field's values joined by `", "`; `nil` when it is absent.
    public subscript(name: String) -> String? {
        let values = values(for: name)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Iterates over the fields in order.
    public func makeIterator() -> IndexingIterator<[HTTPHeader]> { fields.makeIterator() }
}
