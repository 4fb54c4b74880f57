import Foundation

/// A small, tolerant reader for the flat XML documents S3 answers with (`ListBucketResult`, `Error`,
/// `InitiateMultipartUploadResult`, `CompleteMultipartUploadResult`).
///
/// It finds elements by name, not by schema: namespaces, attributes, whitespace and unknown elements are
/// ignored. S3 never nests an element inside one of the same name, which is all it relies on.
enum S3XML {
    /// The raw content of every `<name>…</name>` (empty for `<name/>`), in document order.
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        var results: [Substring] = []
        var cursor = xml.startIndex
        let open = "<\(name)"
        let close = "</\(name)>"
        while let start = xml.range(of: open, range: cursor..<xml.endIndex) {
            var index = start.upperBound
            guard index < xml.endIndex else { break }
            let next = xml[index]
            // `<Key>` must not match `<KeyCount>`.
            guard next == ">" || next == "/" || next == " " || next == "\t" || next == "\n" || next == "\r" else {
                cursor = index
                continue
            }
            guard let tagEnd = xml[index...].firstIndex(of: ">") else { break }
            if xml[xml.index(before: tagEnd)] == "/" {
                results.append(xml[tagEnd..<tagEnd])
                cursor = xml.index(after: tagEnd)
                continue
            }
            index = xml.index(after: tagEnd)
            guard let end = xml.range(of: close, range: index..<xml.endIndex) else { break }
            results.append(xml[index..<end.lowerBound])
            cursor = end.upperBound
        }
        return results
    }

    /// The decoded text of the first `<name>` element, or nil when there is none.
    static func text(_ name: String, in xml: Substring) -> String? {
        elements(name, in: xml).first.map(decode)
    }

    /// Resolves character data: CDATA sections and the five named and numeric character references.
    static func decode(_ raw: Substring) -> String {
        guard raw.contains("&") || raw.contains("<![CDATA[") else { return String(raw) }
        var out = ""
        var rest = raw
        while !rest.isEmpty {
            if rest.hasPrefix("<![CDATA["), let end = rest.range(of: "]]>") {
                out += rest[rest.index(rest.startIndex, offsetBy: 9)..<end.lowerBound]
                rest = rest[end.upperBound...]
                continue
            }
            let character = rest.removeFirst()
            guard character == "&", let semicolon = rest.prefix(12).firstIndex(of: ";") else {
                out.append(character)
                continue
            }
            let entity = rest[..<semicolon]
            var replacement: String?
            switch entity {
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "amp": replacement = "&"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init).map { String($0) }
                }
            }
            if let replacement {
                out += replacement
                rest = rest[rest.index(after: semicolon)...]
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// Escapes text for element content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    /// An entity tag without its quotes (and without the `W/` of a weak one).
    static func etag(_ value: String?) -> String {
        guard var value else { return "" }
        if value.hasPrefix("W/") { value.removeFirst(2) }
        return value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// Decodes a key from a listing made with `encoding-type=url` (`+` is a space, `%XX` a byte).
    static func formDecode(_ value: String) -> String? {
        value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
