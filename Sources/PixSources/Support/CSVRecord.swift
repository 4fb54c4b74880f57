/// RFC 4180 fields of one record.
enum CSVRecord {
    /// Splits a record at `separator` outside quotes; `"…"` fields lose their quotes and `""` becomes `"`.
    static func fields(_ record: ArraySlice<UInt8>, separator: UInt8) -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var index = record.startIndex
        while index < record.endIndex {
            let byte = record[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    let next = record.index(after: index)
                    if next < record.endIndex && record[next] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index = next
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            } else if byte == separator {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            } else {
                field.append(byte)
            }
            index = record.index(after: index)
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }
}
