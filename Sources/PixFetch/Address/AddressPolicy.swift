/// The connection guard: which destination addresses the crawler may connect to.
///
/// By default only public unicast addresses are allowed. Each entry of ``allowedNetworks`` (the operator's
/// `--allow-network CIDR`) opts a range in, whatever its class. The ``Downloader`` applies the policy to
/// the address of every socket libcurl opens, so DNS answers and redirects are judged by where they really lead.
public struct AddressPolicy: Hashable, Sendable {
    /// The outcome of judging one address.
    public enum Verdict: Hashable, Sendable {
        /// A public unicast address.
        case allowed
        /// A non-public address that an allow-list entry opts in.
        case allowedByNetwork(NetworkRange)
        /// Refused: the address is of a class that is not public and no allow-list entry covers it.
        case refused(AddressClass)

        /// Whether a connection may be made.
        public var isAllowed: Bool {
            if case .refused = self { return false }
            return true
        }
    }

    /// Ranges allowed even though they are not public (loopback, private, …).
    public var allowedNetworks: [NetworkRange]

    /// Creates a policy.
    /// - Parameter allowedNetworks: ranges to allow in addition to public unicast addresses.
    public init(allowedNetworks: [NetworkRange] = []) {
        self.allowedNetworks = allowedNetworks
    }

    /// Only public unicast addresses; the default.
    public static let publicOnly = AddressPolicy()

    /// Judges one address.
    /// - Parameter address: the destination about to be connected to.
    public func evaluate(_ address: IPAddress) -> Verdict {
        if let range = allowedNetworks.first(where: { $0.contains(address) }) {
            return .allowedByNetwork(range)
        }
        let addressClass = AddressClassifier.classify(address)
        return addressClass.isPublic ? .allowed : .refused(addressClass)
    }
}
