/// A JSON string, number or boolean read as text; lets decoders accept whatever scalar type a provider sends.
struct JSONScalar: Decodable, Hashable, Sendable {
    /// The value as text (`true`/`false` for booleans, integers without a fraction).
    let text: String

    init(_ text: String) {
        self.text = text
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int.self) {
            text = String(integer)
        } else if let number = try? container.decode(Double.self) {
            text = String(number)
        } else if let flag = try? container.decode(Bool.self) {
            text = flag ? "true" : "false"
        } else if container.decodeNil() {
            text = ""
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON scalar")
        }
    }

    /// The value as an integer, when it is one.
    var int: Int? { Int(text) }
}
