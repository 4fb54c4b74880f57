/// Builds `ATTRIBUTION.md`: how many images carry each license, and who created them.
///
/// Feed it every exported row; it keeps one counter per license and per (license, creator), so memory grows
/// with the number of distinct creators, not images. The per-image credits (creator, license, landing page)
/// are in the manifests the document points to.
public struct AttributionBuilder: Sendable {
    private struct LicenseTally: Sendable {
        var images = 0
        var creators: [String: Int] = [:]
    }

    private var licenses: [String: LicenseTally] = [:]

    /// Images added so far.
    public private(set) var imageCount = 0

    /// Creates an empty builder.
    public init() {}

    /// Counts one exported image.
    /// - Parameter row: The image's manifest row.
    public mutating func add(_ row: ManifestRow) {
        add(license: row.license, creator: row.creator)
    }

    /// Counts one exported image.
    /// - Parameters:
    ///   - license: Its license as the source stated it, or `nil` when unknown.
    ///   - creator: Its creator, or `nil` when unknown.
    public mutating func add(license: String?, creator: String?) {
        let license = Self.clean(license) ?? Self.unknownLicense
        let creator = Self.clean(creator) ?? Self.unknownCreator
        licenses[license, default: LicenseTally()].images += 1
        licenses[license, default: LicenseTally()].creators[creator, default: 0] += 1
        imageCount += 1
    }

    /// The Markdown document. Licenses are ordered by image count (then name), creators by name, both
    /// case-insensitively.
    public func markdown() -> String {
        var out = "# Attribution\n\n"
        out += "This dataset holds \(imageCount) image\(imageCount == 1 ? "" : "s") collected from public sources. "
        out += "Each image keeps the license its creator gave it. `manifest.csv` and `manifest.jsonl` list, for "
        out += "every image, its creator, license, source and the page it came from (`landing_url`); keep them "
        out += "with the images when you share or publish the dataset, and credit creators as their licenses "
        out += "require.\n\n"
        out += "## Licenses\n\n| License | Images |\n|---|---:|\n"
        let ordered = licenses.sorted { left, right in
            if left.value.images != right.value.images { return left.value.images > right.value.images }
            let a = Self.displayName(for: left.key).lowercased()
            let b = Self.displayName(for: right.key).lowercased()
            return a != b ? a < b : left.key < right.key
        }
        for (license, tally) in ordered {
            out += "| \(Self.link(for: license)) | \(tally.images) |\n"
        }
        out += "\n## Creators by license\n"
        for (license, tally) in ordered {
            out +=
                "\n### \(Self.escape(Self.displayName(for: license))) (\(tally.images) image\(tally.images == 1 ? "" : "s"))\n\n"
            let creators = tally.creators.sorted { left, right in
                let a = left.key.lowercased()
                let b = right.key.lowercased()
                return a != b ? a < b : left.key < right.key
            }
            for (creator, count) in creators {
                out += "- \(Self.escape(creator))\(count > 1 ? " (\(count) images)" : "")\n"
            }
        }
        return out
    }

    static let unknownLicense = "unknown license"
    static let unknownCreator = "unknown creator"

    /// A human name for Openverse-style Creative Commons codes (`by-sa 4.0` → `CC BY-SA 4.0`); other
    /// license texts are shown as given.
    static func displayName(for license: String) -> String {
        guard let (code, version) = creativeCommons(license) else { return license }
        switch code {
        case "cc0": return "CC0 \(version ?? "1.0")"
        case "pdm": return "Public Domain Mark \(version ?? "1.0")"
        default: return "CC \(code.uppercased())" + (version.map { " \($0)" } ?? "")
        }
    }

    /// The license's deed URL when it is a Creative Commons code.
    static func deedURL(for license: String) -> String? {
        guard let (code, version) = creativeCommons(license) else { return nil }
        switch code {
        case "cc0": return "https://creativecommons.org/publicdomain/zero/\(version ?? "1.0")/"
        case "pdm": return "https://creativecommons.org/publicdomain/mark/\(version ?? "1.0")/"
        default: return version.map { "https://creativecommons.org/licenses/\(code)/\($0)/" }
        }
    }

    private static let creativeCommonsCodes: Set<String> = [
        "by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd", "cc0", "pdm",
    ]

    private static func creativeCommons(_ license: String) -> (code: String, version: String?)? {
        let parts = license.lowercased().split(separator: " ").map(String.init)
        guard (1...2).contains(parts.count), creativeCommonsCodes.contains(parts[0]) else { return nil }
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
            return (parts[0], parts[1])
        }
        return (parts[0], nil)
    }

    private static func link(for license: String) -> String {
        let name = escape(displayName(for: license))
        return deedURL(for: license).map { "[\(name)](\($0))" } ?? name
    }

    /// Collapses whitespace and control characters; `nil` for blank text.
    private static func clean(_ text: String?) -> String? {
        guard let text else { return nil }
        let collapsed = text.unicodeScalars
            .map { $0.properties.generalCategory == .control || $0.properties.isWhitespace ? " " : String($0) }
            .joined()
            .split(separator: " ", omittingEmptySubsequences: true)
            .joined(separator: " ")
        return collapsed.isEmpty ? nil : collapsed
    }

    /// Escapes Markdown and HTML metacharacters so untrusted names render as text.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\`*_{}[]<>()#|!~".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
