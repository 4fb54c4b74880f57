/// How long a download link works, parsed from the command-line form: a positive whole number and a unit,
/// `d` (days), `h` (hours), `m` (minutes) or `s` (seconds): `7d`, `12h`, `30m`.
public struct LinkLifetime: Sendable, Hashable, CustomStringConvertible {
    /// The lifetime in seconds.
    public let seconds: Int

    /// The longest accepted lifetime: one year.
    public static let maximumSeconds = 365 * 86_400
    /// Seven days.
    public static let `default` = LinkLifetime(uncheckedSeconds: ExportOptions.defaultLinkLifetimeSeconds)

    private init(uncheckedSeconds: Int) {
        seconds = uncheckedSeconds
    }

    /// Parses `7d`, `12h`, `30m` or `45s`.
    /// - Parameter text: The option's value.
    /// - Throws: ``ExportJobError/Code/invalidOptions`` for anything else, zero, or more than a year.
    public init(parsing text: String) throws {
        let invalid = ExportJobError.invalidOptions(
            "cannot read the link lifetime \"\(text.prefix(40))\"; write a positive number and a unit: 7d, 12h, 30m or 45s")
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else { throw invalid }
        let scale: Int
        switch unit {
        case "d": scale = 86_400
        case "h": scale = 3_600
        case "m": scale = 60
        case "s": scale = 1
        default: throw invalid
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= Self.maximumSeconds else {
            throw ExportJobError.invalidOptions("a download link may live at most 365d, got \(text.prefix(40))")
        }
        self.seconds = seconds
    }

    /// The lifetime as a `Duration`.
    public var duration: Duration { .seconds(seconds) }

    /// The shortest exact form: `7d`, `36h`, `90m`, `45s`.
    public var description: String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
