/// What kind of destination an IP address is, for deciding whether the crawler may connect to it.
public enum AddressClass: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A globally routable unicast address: the only class allowed by default.
    case publicUnicast = "public"
    /// `0.0.0.0` or `::` (Linux connects these to the local host).
    case unspecified
    /// `127.0.0.0/8` or `::1`.
    case loopback
    /// RFC 1918 private networks: `10/8`, `172.16/12`, `192.168/16`.
    case privateNetwork = "private"
    /// RFC 6598 shared address space (carrier-grade NAT): `100.64/10`.
    case sharedAddressSpace = "shared"
    /// `169.254/16` or `fe80::/10`.
    case linkLocal = "link-local"
    /// A cloud instance-metadata endpoint (`169.254.169.254`, `fd00:ec2::254`).
    case cloudMetadata = "metadata"
    /// IPv6 unique local addresses: `fc00::/7`.
    case uniqueLocal = "unique-local"
    /// `224/4` or `ff00::/8`.
    case multicast
    /// The limited broadcast address `255.255.255.255`.
    case broadcast
    /// Documentation ranges (`192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`).
    case documentation
    /// Any other special-purpose or unassigned range (`0/8`, `240/4`, `198.18/15`, `2001::/23`, outside `2000::/3`…).
    case reserved

    /// Whether the class may be connected to without an explicit allow-list entry.
    public var isPublic: Bool { self == .publicUnicast }

    /// A short human name, e.g. `"loopback"` or `"private"`.
    public var description: String { rawValue }
}

/// Classifies IP addresses into ``AddressClass``es: loopback, private, link-local, metadata, multicast and so on.
///
/// IPv6 forms that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96`)
/// are judged by the embedded address when that address is not public.
public enum AddressClassifier {
    /// Classifies an address.
    /// - Parameter address: the address to judge.
    /// - Returns: the most specific class the address belongs to.
    public static func classify(_ address: IPAddress) -> AddressClass {
        if let value = address.v4Value { return classifyIPv4(value) }
        guard let (high, low) = address.v6Value else { return .reserved }
        return classifyIPv6(high: high, low: low)
    }

    /// Classifies a URL host written as an IP literal in any spelling (`2130706433`, `0x7f.1`, `[::1]`).
    /// - Parameter host: the host part of a URL.
    /// - Returns: the class, or `nil` when `host` is a name rather than an address.
    public static func classify(host: String) -> AddressClass? {
        IPAddress(parsingHost: host).map(classify)
    }

    private static func within(_ value: UInt32, _ network: UInt32, _ prefix: Int) -> Bool {
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        return value & mask == network & mask
    }

    private static func classifyIPv4(_ value: UInt32) -> AddressClass {
        func net(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }
        switch true {
        case value == 0: return .unspecified
        case value == UInt32.max: return .broadcast
        case within(value, net(127, 0, 0, 0), 8): return .loopback
        case within(value, net(10, 0, 0, 0), 8),
            within(value, net(172, 16, 0, 0), 12),
            within(value, net(192, 168, 0, 0), 16):
            return .privateNetwork
        case within(value, net(100, 64, 0, 0), 10): return .sharedAddressSpace
        case value == net(169, 254, 169, 254): return .cloudMetadata
        case within(value, net(169, 254, 0, 0), 16): return .linkLocal
        case within(value, net(224, 0, 0, 0), 4): return .multicast
        case within(value, net(192, 0, 2, 0), 24),
            within(value, net(198, 51, 100, 0), 24),
            within(value, net(203, 0, 113, 0), 24):
            return .documentation
        case within(value, net(0, 0, 0, 0), 8),  // "this network"
            within(value, net(192, 0, 0, 0), 24),  // IETF protocol assignments
            within(value, net(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated)
            within(value, net(198, 18, 0, 0), 15),  // benchmarking
            within(value, net(240, 0, 0, 0), 4):  // reserved for future use
            return .reserved
        default: return .publicUnicast
        }
    }

    private static func classifyIPv6(high: UInt64, low: UInt64) -> AddressClass {
        let top16 = UInt16(truncatingIfNeeded: high >> 48)
        switch true {
        case high == 0 && low == 0: return .unspecified
        case high == 0 && low == 1: return .loopback
        case high == 0 && low >> 32 == 0xffff:  // ::ffff:a.b.c.d: reaches the IPv4 host
            return classifyIPv4(UInt32(truncatingIfNeeded: low))
        case high == 0x0064_ff9b_0000_0000 && low >> 32 == 0:  // NAT64 well-known prefix 64:ff9b::/96
            return embedded(UInt32(truncatingIfNeeded: low))
        case top16 == 0x2002:  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
            return embedded(UInt32(truncatingIfNeeded: high >> 16))
        case high == 0xfd00_0ec2_0000_0000 && low == 0x254: return .cloudMetadata
        case top16 & 0xfe00 == 0xfc00: return .uniqueLocal
        case top16 & 0xffc0 == 0xfe80: return .linkLocal
        case top16 & 0xff00 == 0xff00: return .multicast
        case high >> 32 == 0x2001_0db8: return .documentation
        case top16 == 0x2001 && (high >> 32) & 0xfe00 == 0: return .reserved  // 2001::/23, includes Teredo
        case top16 & 0xe000 != 0x2000: return .reserved  // outside global unicast 2000::/3
        default: return .publicUnicast
        }
    }

    private static func embedded(_ value: UInt32) -> AddressClass {
        let inner = classifyIPv4(value)
        return inner.isPublic ? .publicUnicast : inner
    }
}
