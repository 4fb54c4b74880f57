import PixSources
import Synchronization

/// Turns a source specification stored on a job (`openverse`, `commons`, `urls:FILE`, `demo`) into a source.
public typealias SourceFactory = @Sendable (String) throws -> any ImageSource

/// Resolves source specifications through a ``SourceFactory``, once per specification: every chunk of a
/// process that names the same source shares one instance (and its rate limits and caches).
public final class SourceResolver: Sendable {
    private let factory: SourceFactory
    private let cache = Mutex<[String: any ImageSource]>([:])

    /// Creates a resolver.
    /// - Parameter factory: builds a source from its specification; throws for unknown ones.
    public init(_ factory: @escaping SourceFactory) {
        self.factory = factory
    }

    /// The source for `spec`, built on first use.
    /// - Throws: what the factory throws for an unknown or unusable specification.
    public func source(for spec: String) throws -> any ImageSource {
        if let cached = cache.withLock({ $0[spec] }) { return cached }
        let made = try factory(spec)
        return cache.withLock { cache in
            if let raced = cache[spec] { return raced }
            cache[spec] = made
            return made
        }
    }
}
