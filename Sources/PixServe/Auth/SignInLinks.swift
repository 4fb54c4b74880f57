import Foundation
import Synchronization

/// One-time sign-in links: `pixcrawl serve` prints one for the local profile (the owner of CLI crawls), so the
/// person at the console can open the dashboard without creating a user first.
///
/// A link holds 256 random bits, lives in this process only (a restart invalidates it), works once and expires.
public final class SignInLinks: Sendable {
    struct Pending {
        var profileID: UUID
        var expiresAt: Date
    }

    private let pending = Mutex<[String: Pending]>([:])

    public init() {}

    /// A new one-time code for `profileID`, valid for `lifetime`.
    public func issue(for profileID: UUID, lifetime: TimeInterval = 3600, now: Date = Date()) -> String {
        let code = String(APITokenGenerator.generate(scheme: "").token)
        pending.withLock { links in
            links = links.filter { $0.value.expiresAt > now }
            links[code] = Pending(profileID: profileID, expiresAt: now.addingTimeInterval(lifetime))
        }
        return code
    }

    /// The profile `code` signs in, once; `nil` for an unknown, used or expired code.
    func redeem(_ code: String, now: Date = Date()) -> UUID? {
        pending.withLock { links in
            guard let link = links.removeValue(forKey: code), link.expiresAt > now else { return nil }
            return link.profileID
        }
    }
}
