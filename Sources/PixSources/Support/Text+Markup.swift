extension String {
    /// The text of an HTML fragment: tags removed, common character references decoded, whitespace collapsed.
    /// Used for MediaWiki's `Artist` metadata (`<a href="…">Jane Doe</a>`).
    var strippingMarkup: String {
        var text = ""
        var insideTag = false
        for character in self {
            if insideTag {
                if character == ">" { insideTag = false }
            } else if character == "<" {
                insideTag = true
            } else {
                text.append(character)
            }
        }
        return text.decodingCharacterReferences.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric references decoded.
    var decodingCharacterReferences: String {
        guard contains("&") else { return self }
        let named: [Substring: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "#39": "'", "nbsp": " ",
        ]
        var result = ""
        var rest = self[...]
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let afterAmpersand = rest.index(after: ampersand)
            guard let semicolon = rest[afterAmpersand...].prefix(10).firstIndex(of: ";") else {
                result.append("&")
                rest = rest[afterAmpersand...]
                continue
            }
            let name = rest[afterAmpersand..<semicolon]
            if let replacement = named[name] {
                result += replacement
            } else if name.hasPrefix("#x") || name.hasPrefix("#X"), let code = UInt32(name.dropFirst(2), radix: 16),
                let scalar = Unicode.Scalar(code)
            {
                result.unicodeScalars.append(scalar)
            } else if name.hasPrefix("#"), let code = UInt32(name.dropFirst()), let scalar = Unicode.Scalar(code) {
                result.unicodeScalars.append(scalar)
            } else {
                result += rest[ampersand...semicolon]
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }
}
