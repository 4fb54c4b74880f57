import Foundation

/// Folder names for the ImageFolder layout (`split/KEYWORD/file`), which torchvision's `ImageFolder`
/// loads as one class per folder.
///
/// Keywords become safe folder names (see ``sanitize(_:maxBytes:)``). Two different keywords can map to the
/// same name, and on case-insensitive file systems (macOS, Windows) names differing only in case collide
/// too; such collisions get a `~2`, `~3`, … suffix. Which keyword keeps the plain name depends only on the
/// set of keywords, never on the order images arrive in: the keyword whose name needed no change wins,
/// then the smallest keyword by UTF-8 bytes. Build one value with every keyword of the export.
public struct ImageFolderNaming: Sendable {
    /// Folder name of each keyword.
    public let folders: [String: String]
    /// The byte limit folder names were cut to.
    public let maxBytes: Int

    /// Assigns a folder to every keyword.
    /// - Parameters:
    ///   - keywords: Every keyword of the export (duplicates are ignored).
    ///   - maxBytes: Longest folder name in UTF-8 bytes, suffix included (at least 16; default 100).
    public init(keywords: some Sequence<String>, maxBytes: Int = 100) {
        let maxBytes = max(16, maxBytes)
        self.maxBytes = maxBytes
        let distinct = Set(keywords).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let groups = Dictionary(grouping: distinct) { Self.collisionKey(Self.sanitize($0, maxBytes: maxBytes)) }

        var folders: [String: String] = [:]
        var taken: Set<String> = []
        var losers: [String] = []
        for (_, members) in groups {
            // The keyword that is already a valid name keeps it; otherwise the smallest keyword does.
            let ranked = members.sorted { left, right in
                let leftExact = Self.sanitize(left, maxBytes: maxBytes) == left
                let rightExact = Self.sanitize(right, maxBytes: maxBytes) == right
                if leftExact != rightExact { return leftExact }
                return left.utf8.lexicographicallyPrecedes(right.utf8)
            }
            let winner = ranked[0]
            let name = Self.sanitize(winner, maxBytes: maxBytes)
            folders[winner] = name
            taken.insert(Self.collisionKey(name))
            losers += ranked.dropFirst()
        }
        for keyword in losers.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let base = Self.sanitize(keyword, maxBytes: maxBytes)
            var counter = 2
            while true {
                let suffix = "~\(counter)"
                let name = Self.trimmedEnd(Self.truncate(base, toBytes: maxBytes - suffix.utf8.count)) + suffix
                if taken.insert(Self.collisionKey(name)).inserted {
                    folders[keyword] = name
                    break
                }
                counter += 1
            }
        }
        self.folders = folders
    }

    /// The folder of a keyword.
    /// - Parameter keyword: One of the keywords given at creation.
    /// - Throws: ``ExportError/Code/unknownKeyword`` for a keyword that was not given.
    public func folderName(for keyword: String) throws -> String {
        guard let folder = folders[keyword] else { throw ExportError.unknownKeyword(keyword) }
        return folder
    }

    /// The archive path of an image: `split/folder/fileName`, or `folder/fileName` without a split.
    /// - Parameters:
    ///   - fileName: The image's file name (for example `000042_1234.jpg`); it must not contain `/`.
    ///   - keyword: The image's keyword.
    ///   - split: The image's split, or `nil` for an unsplit export.
    public func path(for fileName: String, keyword: String, split: DatasetSplit?) throws -> String {
        let folder = try folderName(for: keyword)
        return (split.map { "\($0.rawValue)/" } ?? "") + folder + "/" + fileName
    }

    /// Makes a keyword safe as one folder name on Linux, macOS and Windows, keeping its Unicode text.
    ///
    /// The result is NFC-normalised; has no `/`, `\`, `:`, `*`, `?`, `"`, `<`, `>`, `|` (each becomes `_`),
    /// no control or bidirectional-override characters (dropped) and no runs of whitespace (one space); does not
    /// start with `.` (so it is never `.`, `..` or hidden) nor end with `.` or a space; is not a Windows device
    /// name (`CON`, `NUL`, `COM1.txt`, … get a leading `_`); is at most `maxBytes` UTF-8 bytes, cut between
    /// characters; and is never empty (`_`).
    /// - Parameters:
    ///   - keyword: Any text.
    ///   - maxBytes: Longest result in UTF-8 bytes (at least 16).
    public static func sanitize(_ keyword: String, maxBytes: Int = 100) -> String {
        let maxBytes = max(16, maxBytes)
        var scalars = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in keyword.precomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .lineSeparator
                || scalar.properties.generalCategory == .paragraphSeparator
            {
                pendingSpace = true
                continue
            }
            if scalar.properties.generalCategory == .control || bidiControls.contains(scalar.value) { continue }
            if pendingSpace && !scalars.isEmpty { scalars.append(" ") }
            pendingSpace = false
            scalars.append(reserved.contains(scalar) ? "_" : scalar)
        }
        var name = String(scalars)
        if let dots = name.firstIndex(where: { $0 != "." }) {
            name = String(repeating: "_", count: name.distance(from: name.startIndex, to: dots)) + name[dots...]
        } else {
            name = String(repeating: "_", count: name.count)
        }
        name = trimmedEnd(name)
        let stem = name.split(separator: ".", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        if windowsDeviceNames.contains(stem.trimmingCharacters(in: .whitespaces)) { name = "_" + name }
        name = trimmedEnd(truncate(name, toBytes: maxBytes))
        return name.isEmpty ? "_" : name
    }

    private static let reserved: Set<Unicode.Scalar> = ["/", "\\", ":", "*", "?", "\"", "<", ">", "|"]
    private static let bidiControls: Set<UInt32> = [
        0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
    ]
    private static let windowsDeviceNames: Set<String> = Set(
        ["CON", "PRN", "AUX", "NUL"] + (1...9).map { "COM\($0)" } + (1...9).map { "LPT\($0)" })

    /// Names that collide on a case-insensitive file system share this key.
    private static func collisionKey(_ name: String) -> String {
        name.lowercased()
    }

    private static func truncate(_ text: String, toBytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var out = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            out.append(character)
            used += size
        }
        return out
    }

    private static func trimmedEnd(_ text: String) -> String {
        var text = text
        while let last = text.last, last == "." || last == " " { text.removeLast() }
        return text
    }
}
