/// A block of IP addresses in CIDR notation (`127.0.0.1/32`, `10.0.0.0/8`, `fd00::/8`).
public struct NetworkRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let network: IPAddress
    /// The number of leading bits that are fixed: 0…32 for IPv4, 0…128 for IPv6.
    public let prefixLength: Int

    /// Creates a range from an address and prefix length; host bits of `address` are cleared.
    /// - Returns: `nil` when the prefix length does not fit the address family.
    public init?(address: IPAddress, prefixLength: Int) {
        let width = address.family == .v4 ? 32 : 128
        guard (0...width).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        if let value = address.v4Value {
            network = IPAddress(v4: value & Self.mask32(prefixLength))
        } else if let (high, low) = address.v6Value {
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            network = IPAddress(v6High: high & maskHigh, low: low & maskLow)
        } else {
            return nil
        }
    }

    /// Parses `ADDRESS/PREFIX`, or a bare address meaning that single address (`/32` or `/128`).
    /// Addresses must be in canonical form (dotted quad or IPv6 text).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        var prefix = address.family == .v4 ? 32 : 128
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[1])
            else { return nil }
            prefix = value
        }
        self.init(address: address, prefixLength: prefix)
    }

    /// Whether `address` lies in this range. An IPv4-mapped IPv6 address is matched as its IPv4 address.
    public func contains(_ address: IPAddress) -> Bool {
        let candidate = network.family == .v4 && address.family == .v6 ? (address.mappedIPv4 ?? address) : address
        if let base = network.v4Value, let value = candidate.v4Value {
            return value & Self.mask32(prefixLength) == base
        }
        if let (baseHigh, baseLow) = network.v6Value, let (high, low) = candidate.v6Value {
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            return high & maskHigh == baseHigh && low & maskLow == baseLow
        }
        return false
    }

    /// `NETWORK/PREFIX`, e.g. `127.0.0.1/32`.
    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask32(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
    }

    private static func mask128(_ prefix: Int) -> (UInt64, UInt64) {
        let high: UInt64 = prefix >= 64 ? ~0 : (prefix == 0 ? 0 : ~UInt64(0) << (64 - prefix))
        let low: UInt64 = prefix <= 64 ? 0 : (prefix == 128 ? ~0 : ~UInt64(0) << (128 - prefix))
        return (high, low)
    }
}
