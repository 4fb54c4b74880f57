/// The scalar members of a JSON object, as text (nested arrays and objects are ignored).
struct JSONObjectFields: Decodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var fields: [String: String] = [:]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if let value = try? container.decode(JSONScalar.self, forKey: key) { fields[key.stringValue] = value.text }
        }
    }
}
