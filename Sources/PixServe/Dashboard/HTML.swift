import Foundation

/// Small helpers for the server-rendered dashboard.
enum HTML {
    /// Escapes text for use in element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// Decodes an `application/x-www-form-urlencoded` body; of a repeated name the last value wins.
    static func formFields(_ body: String) -> [String: String] {
        formPairs(body).reduce(into: [:]) { $0[$1.name] = $1.value }
    }

    /// Decodes an `application/x-www-form-urlencoded` body into its pairs, in order (checkboxes repeat a name).
    static func formPairs(_ body: String) -> [(name: String, value: String)] {
        func decode(_ part: Substring) -> String {
            String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
        }
        return body.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first else { return nil }
            return (decode(name), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
