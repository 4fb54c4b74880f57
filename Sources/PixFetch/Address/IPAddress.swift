#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address held as its network-order bytes.
///
/// Two parsers: ``init(_:)`` accepts only canonical spellings (dotted quad, RFC 4291 text), as used in
/// configuration; ``init(parsingHost:)`` accepts every spelling a URL host may use for an IP literal
/// (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `[::1]`), the way URL parsers and `inet_aton` read them.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        case v4
        case v6
    }

    private enum Storage: Hashable {
        case v4(UInt32)
        case v6(UInt64, UInt64)
    }

    private let storage: Storage

    /// Creates an IPv4 address from its 32-bit value (`0x7f000001` is 127.0.0.1).
    public init(v4 value: UInt32) {
        storage = .v4(value)
    }

    /// Creates an IPv4 address from its four octets.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        storage = .v4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// Creates an IPv6 address from its high and low 64 bits.
    public init(v6High high: UInt64, low: UInt64) {
        storage = .v6(high, low)
    }

    /// Creates an address from 4 (IPv4) or 16 (IPv6) network-order bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        switch array.count {
        case 4:
            storage = .v4(array.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = array[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = array[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            storage = .v6(high, low)
        default:
            return nil
        }
    }

    /// Parses a canonical address: a dotted quad (`192.0.2.1`) or IPv6 text (`2001:db8::1`, `::ffff:10.0.0.1`).
    public init?(_ text: String) {
        if text.contains(":") {
            guard let address = Self.parseIPv6(text) else { return nil }
            self = address
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let octet = UInt8(part)
                else { return nil }
                value = value << 8 | UInt32(octet)
            }
            storage = .v4(value)
        }
    }

    /// Parses a URL host that is an IP literal in any spelling URL parsers accept; `nil` for a host name.
    ///
    /// IPv4 follows `inet_aton`/WHATWG rules: one to four dot-separated parts, each decimal, octal (leading `0`)
    /// or hexadecimal (`0x`); the last part fills the remaining bytes (`127.1`, `2130706433`); one trailing dot
    /// is ignored. IPv6 may be bracketed and may carry a zone (`[fe80::1%eth0]`).
    public init?(parsingHost host: String) {
        var text = Substring(host)
        if text.hasPrefix("[") && text.hasSuffix("]") {
            text = text.dropFirst().dropLast()
        }
        if text.contains(":") {
            if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
            guard let address = Self.parseIPv6(String(text)) else { return nil }
            self = address
            return
        }
        guard let value = Self.parseLenientIPv4(text) else { return nil }
        storage = .v4(value)
    }

    /// The address family.
    public var family: Family {
        switch storage {
        case .v4: .v4
        case .v6: .v6
        }
    }

    /// The 32-bit value of an IPv4 address; `nil` for IPv6.
    public var v4Value: UInt32? {
        if case .v4(let value) = storage { return value }
        return nil
    }

    /// The high and low 64 bits of an IPv6 address; `nil` for IPv4.
    public var v6Value: (high: UInt64, low: UInt64)? {
        if case .v6(let high, let low) = storage { return (high, low) }
        return nil
    }

    /// The network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch storage {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); `nil` otherwise.
    ///
    /// A connection to a mapped address reaches the IPv4 host, so it is judged as that host.
    public var mappedIPv4: IPAddress? {
        guard case .v6(let high, let low) = storage, high == 0, low >> 32 == 0xffff else { return nil }
        return IPAddress(v4: UInt32(truncatingIfNeeded: low))
    }

    /// Canonical text: dotted quad for IPv4, RFC 5952 form for IPv6.
    public var description: String {
        switch storage {
        case .v4(let value):
            return (0..<4).map { String(UInt8(truncatingIfNeeded: value >> (24 - 8 * $0))) }.joined(separator: ".")
        case .v6:
            var raw = bytes
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            let text = raw.withUnsafeMutableBytes { source in
                inet_ntop(AF_INET6, source.baseAddress, &buffer, socklen_t(buffer.count))
            }
            guard text != nil else { return "?" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: - Parsing

    private static func parseIPv6(_ text: String) -> IPAddress? {
        var raw = [UInt8](repeating: 0, count: 16)
        let result = raw.withUnsafeMutableBytes { destination in
            inet_pton(AF_INET6, text, destination.baseAddress)
        }
        guard result == 1 else { return nil }
        return IPAddress(bytes: raw)
    }

    private static func parseLenientIPv4(_ host: Substring) -> UInt32? {
        var text = host
        if text.hasSuffix(".") { text = text.dropLast() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseIPv4Part(part) else { return nil }
            numbers.append(number)
        }
        var value: UInt64 = 0
        for number in numbers.dropLast() {
            guard number <= 255 else { return nil }
            value = value << 8 | number
        }
        let remainingBytes = 5 - parts.count
        let last = numbers[numbers.count - 1]
        guard last < (UInt64(1) << (8 * UInt64(remainingBytes))) else { return nil }
        value = value << (8 * UInt64(remainingBytes)) | last
        return UInt32(value)
    }

    private static func parseIPv4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.allSatisfy(\.isASCII) else { return nil }
        var digits = part
        var radix: UInt64 = 10
        if digits.count >= 2, digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
            if digits.isEmpty { return 0 }
        } else if digits.count >= 2, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
            if value > UInt64(UInt32.max) { return nil }
        }
        return value
    }
}
