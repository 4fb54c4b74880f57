import Foundation
import PixCore
import PixSQL
import PixStore

/// What `pixcrawl stats` shows: crawl activity in a time window, computed the same way on both engines.
public struct StatsReport: Sendable, Hashable, Codable {
    /// Images accepted in one hour.
    public struct HourCount: Sendable, Hashable, Codable {
        /// The start of the hour (UTC).
        public let hour: Date
        /// Images accepted.
        public let images: Int

        /// Creates the entry.
        public init(hour: Date, images: Int) {
            self.hour = hour
            self.images = images
        }
    }

    /// Error records of one category.
    public struct CategoryCount: Sendable, Hashable, Codable {
        /// The error category (`NETWORK`, `DECODE`, …).
        public let category: String
        /// Error records of the category.
        public let count: Int
        /// `count` over all error records in the window (0…1).
        public let share: Double

        /// Creates the entry.
        public init(category: String, count: Int, share: Double) {
            self.category = category
            self.count = count
            self.share = share
        }
    }

    /// A job with status `running`.
    public struct RunningJob: Sendable, Hashable, Codable {
        /// The job id.
        public let id: Int64
        /// The job name.
        public let name: String
        /// When the job started, if it has.
        public let startedAt: Date?
        /// Seconds since `startedAt` (0 when it has not started yet).
        public let runningSeconds: Int64

        /// Creates the entry.
        public init(id: Int64, name: String, startedAt: Date?, runningSeconds: Int64) {
            self.id = id
            self.name = name
            self.startedAt = startedAt
            self.runningSeconds = runningSeconds
        }
    }

    /// One source's results in the window.
    public struct SourceCount: Sendable, Hashable, Codable {
        /// The source name.
        public let source: String
        /// Images accepted from it.
        public let accepted: Int
        /// Candidates rejected (error records with a URL, of its chunks).
        public let rejected: Int
        /// accepted / (accepted + rejected), when there was any candidate.
        public let successRate: Double?
        /// Mean `file_size` of its accepted images, in bytes.
        public let meanBytes: Double?

        /// Creates the entry.
        public init(source: String, accepted: Int, rejected: Int, successRate: Double?, meanBytes: Double?) {
            self.source = source
            self.accepted = accepted
            self.rejected = rejected
            self.successRate = successRate
            self.meanBytes = meanBytes
        }
    }

    /// Error records of one host.
    public struct HostCount: Sendable, Hashable, Codable {
        /// The host, lowercased (`[…]` for IPv6).
        public let host: String
        /// Error records whose URL has this host.
        public let errors: Int

        /// Creates the entry.
        public init(host: String, errors: Int) {
            self.host = host
            self.errors = errors
        }
    }

    /// Images accepted in the last hour.
    public struct Throughput: Sendable, Hashable, Codable {
        /// Images accepted.
        public let images: Int
        /// Their bytes (sum of `file_size`).
        public let bytes: Int64
        /// Images per minute over the hour.
        public let imagesPerMinute: Double
        /// Bytes per second over the hour.
        public let bytesPerSecond: Double

        /// Creates the entry.
        public init(images: Int, bytes: Int64, imagesPerMinute: Double, bytesPerSecond: Double) {
            self.images = images
            self.bytes = bytes
            self.imagesPerMinute = imagesPerMinute
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// The window's start (inclusive).
    public let windowStart: Date
    /// The window's end (exclusive): when the numbers were taken.
    public let windowEnd: Date
    /// Images accepted in the window.
    public let imagesAccepted: Int
    /// Per hour of the window, oldest first, hours without images included.
    public let imagesPerHour: [HourCount]
    /// Distinct keywords of the window's images.
    public let distinctKeywords: Int
    /// Distinct sources of the window's images.
    public let distinctSources: Int
    /// Error records in the window.
    public let errorsTotal: Int
    /// Error records by category, most frequent first.
    public let errorsByCategory: [CategoryCount]
    /// Jobs running now.
    public let runningJobs: [RunningJob]
    /// Per source, by accepted images (most first).
    public let sources: [SourceCount]
    /// Hosts with the most error records in the window.
    public let topFailingHosts: [HostCount]
    /// The hour before `windowEnd`.
    public let lastHour: Throughput
}
