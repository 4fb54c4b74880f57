import Foundation

/// A single-range `Range: bytes=…` request header, resolved against a content length.
enum ByteRange: Equatable {
    /// No usable range: send everything (absent header, other units, or several ranges).
    case whole
    /// Send these bytes with 206.
    case partial(ClosedRange<Int>)
    /// The range lies outside the content: 416.
    case unsatisfiable

    /// Resolves `header` for content of `size` bytes (RFC 9110 §14.1.2).
    init(header: String?, size: Int) {
        guard let header else {
            self = .whole
            return
        }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let spec = trimmed.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else {
            self = .whole
            return
        }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            self = .unsatisfiable
            return
        }
        let first = parts[0].trimmingCharacters(in: .whitespaces)
        let last = parts[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let length = Int(last), length > 0, size > 0 else {
                self = .unsatisfiable
                return
            }
            self = .partial(max(0, size - length)...(size - 1))
            return
        }
        guard let start = Int(first), start >= 0, start < size else {
            self = .unsatisfiable
            return
        }
        if last.isEmpty {
            self = .partial(start...(size - 1))
            return
        }
        guard let end = Int(last), end >= start else {
            self = .unsatisfiable
            return
        }
        self = .partial(start...min(end, size - 1))
    }
}
