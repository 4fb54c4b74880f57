/// The one place that strips credentials from URLs before they are stored or logged.
public enum URLRedaction {
    /// Drops `user:password@` from a URL's authority, so credentials never reach the store, logs or error
    /// records. Anything else is returned unchanged (an `@` in the path or query is not user information).
    /// - Parameter url: a URL as text.
    /// - Returns: the URL without its user information.
    public static func redacted(_ url: String) -> String {
        guard let separator = url.firstRange(of: "://") else { return url }
        let rest = url[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<separator.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
