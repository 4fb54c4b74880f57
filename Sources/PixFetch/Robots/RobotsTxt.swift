/// A parsed robots.txt (RFC 9309): user-agent groups with allow and disallow rules.
///
/// The crawler obeys the groups naming its product token (case-insensitively; `PixCrawler/1.0` counts as
/// `PixCrawler`), all of them merged; when none names it, the `*` groups. The longest matching rule wins, an
/// allow winning a tie; `*` matches any sequence and a trailing `$` anchors the end.
public struct RobotsTxt: Hashable, Sendable {
    /// One `Allow` or `Disallow` line.
    public struct Rule: Hashable, Sendable {
        /// `true` for `Allow`, `false` for `Disallow`.
        public var allows: Bool
        /// The path pattern, as written.
        public var pattern: String

        /// Creates a rule.
        public init(allows: Bool, pattern: String) {
            self.allows = allows
            self.pattern = pattern
        }
    }

    /// A group: the user agents it names and their rules.
    public struct Group: Hashable, Sendable {
        /// The user-agent values of the group, lowercased product tokens (or `*`).
        public var userAgents: [String]
        /// The rules, in file order.
        public var rules: [Rule]
    }

    /// The groups, in file order.
    public private(set) var groups: [Group]

    /// A robots.txt that allows everything (used when the file is missing).
    public static let allowAll = RobotsTxt(groups: [])

    /// A robots.txt that disallows everything (used when the file is unreachable).
    public static let disallowAll = RobotsTxt(groups: [
        Group(userAgents: ["*"], rules: [Rule(allows: false, pattern: "/")])
    ])

    private init(groups: [Group]) {
        self.groups = groups
    }

    /// Parses robots.txt text. Unknown lines (`Sitemap`, `Crawl-delay`, garbage) are ignored.
    public init(parsing text: String) {
        var groups: [Group] = []
        var current: Group?
        var lastWasAgent = false
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingWhitespace().lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            switch key {
            case "user-agent":
                if !lastWasAgent {
                    if let current { groups.append(current) }
                    current = Group(userAgents: [], rules: [])
                }
                current?.userAgents.append(Self.productToken(value))
                lastWasAgent = true
            case "allow", "disallow":
                lastWasAgent = false
                guard current != nil, !value.isEmpty else { continue }  // an empty rule matches nothing
                current?.rules.append(Rule(allows: key == "allow", pattern: value))
            default:
                continue
            }
        }
        if let current { groups.append(current) }
        self.groups = groups
    }

    /// Parses robots.txt bytes (UTF-8; invalid sequences are replaced).
    public init(parsing bytes: [UInt8]) {
        self.init(parsing: String(decoding: bytes, as: UTF8.self))
    }

    /// The rules that apply to a crawler: its own groups merged, or the `*` groups when none names it.
    /// - Parameter productToken: the crawler's product token, e.g. `PixCrawler`.
    public func rules(for productToken: String) -> [Rule] {
        let token = Self.productToken(productToken)
        let own = groups.filter { $0.userAgents.contains(token) }
        let chosen = own.isEmpty ? groups.filter { $0.userAgents.contains("*") } : own
        return chosen.flatMap(\.rules)
    }

    /// The rules for one crawler with their patterns normalised once, ready to judge many paths.
    public struct CompiledRules: Hashable, Sendable {
        private struct Compiled: Hashable, Sendable {
            var allows: Bool
            var pattern: [UInt8]
        }

        private let rules: [Compiled]

        init(_ rules: [Rule]) {
            self.rules = rules.map { Compiled(allows: $0.allows, pattern: RobotsTxt.normalize($0.pattern)) }
        }

        /// Whether the crawler may fetch a path: the longest matching rule wins, an allow winning a tie.
        /// - Parameter path: the path and query as sent (`/images/a.jpg?size=large`).
        public func isAllowed(_ path: String) -> Bool {
            if path == "/robots.txt" { return true }
            let target = RobotsTxt.normalize(path.isEmpty ? "/" : path)
            var best: (length: Int, allows: Bool)?
            for rule in rules where RobotsTxt.matches(pattern: rule.pattern, path: target) {
                if let current = best {
                    if rule.pattern.count > current.length
                        || (rule.pattern.count == current.length && rule.allows)
                    {
                        best = (rule.pattern.count, rule.allows)
                    }
                } else {
                    best = (rule.pattern.count, rule.allows)
                }
            }
            return best?.allows ?? true
        }
    }

    /// The rules that apply to a crawler, compiled for judging many paths.
    /// - Parameter productToken: the crawler's product token, e.g. `PixCrawler`.
    public func compiled(for productToken: String) -> CompiledRules {
        CompiledRules(rules(for: productToken))
    }

    /// Whether a crawler may fetch a path. To judge many paths, compile once with ``compiled(for:)``.
    /// - Parameters:
    ///   - path: the path and query as sent (`/images/a.jpg?size=large`).
    ///   - productToken: the crawler's product token.
    public func isAllowed(_ path: String, for productToken: String) -> Bool {
        compiled(for: productToken).isAllowed(path)
    }

    /// `PixCrawler/1.0 (+https://…)` → `pixcrawler`; `*` stays `*`.
    private static func productToken(_ value: String) -> String {
        if value.hasPrefix("*") { return "*" }
        return String(value.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }).lowercased()
    }

    /// Bytes of a path or pattern with percent-encoding made comparable: escapes of unreserved characters are
    /// decoded, other escapes get uppercase hex, and bytes outside printable ASCII are escaped.
    static func normalize(_ text: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output += [UInt8(ascii: "%"), hex[Int(high)], hex[Int(low)]]
                }
                index += 3
            } else if byte <= 0x20 || byte >= 0x7f {
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
                index += 1
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// Whether `pattern` (with `*` wildcards and an optional trailing `$`) matches a prefix of `path`,
    /// or all of it when anchored.
    static func matches(pattern: [UInt8], path: [UInt8]) -> Bool {
        var body = pattern[...]
        let anchored = body.last == UInt8(ascii: "$")
        if anchored { body = body.dropLast() }
        // The set of path offsets the pattern so far can end at, kept as a sorted list.
        var positions = [0]
        for symbol in body {
            if symbol == UInt8(ascii: "*") {
                positions = Array(positions[0]...path.count)
            } else {
                positions = positions.compactMap { $0 < path.count && path[$0] == symbol ? $0 + 1 : nil }
                if positions.isEmpty { return false }
            }
        }
        return anchored ? positions.contains(path.count) : true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
