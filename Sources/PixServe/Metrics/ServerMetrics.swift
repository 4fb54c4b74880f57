import Foundation
import PixCore
import PixStore
import Prometheus

/// The store-derived gauges of `/metrics`, read from the store at scrape time into a registry of their own
/// (so two servers in one process never mix their numbers), followed by the process-wide metrics.
public struct ServerMetrics: Sendable {
    let store: any CrawlStore
    let registry = PrometheusCollectorRegistry()

    /// A worker whose last heartbeat is older than this is not counted as live.
    public static let liveWorkerWindow: TimeInterval = 90

    private func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "pixcrawl", metricName: name, unitName: unit, helpText: help),
            labels: labels)
    }

    init(store: any CrawlStore) {
        self.store = store
    }

    /// Reads the store and renders every metric in the Prometheus text format.
    public func scrape() async throws -> String {
        var jobs: [JobStatus: Int] = [:]
        var chunks: [ChunkStatus: Int] = [:]
        var accepted = 0
        var downloaded = 0
        var rejected: [ErrorCategory: Int] = [:]
        var exportBytes: Int64 = 0
        var exportsCompleted = 0
        let exportStore = store as? any ExportStore
        var offset = 0
        let page = 500
        while true {
            let batch = try await store.listJobs(projectID: nil, status: nil, limit: page, offset: offset)
            for job in batch {
                jobs[job.status, default: 0] += 1
                let c = job.counters
                chunks[.pending, default: 0] += c.pendingChunks
                chunks[.active, default: 0] += c.activeChunks
                chunks[.completed, default: 0] += c.completedChunks
                chunks[.failed, default: 0] += c.failedChunks
                chunks[.cancelled, default: 0] += c.cancelledChunks
                accepted += c.validImages
                downloaded += c.downloadedImages
                for (category, count) in try await store.errorSummary(jobID: job.id) {
                    rejected[category, default: 0] += count
                }
                for export in try await exportStore?.exports(crawlJobID: job.id) ?? [] where export.status == .completed {
                    exportBytes += export.fileSize ?? 0
                    exportsCompleted += 1
                }
            }
            if batch.count < page { break }
            offset += page
        }
        let now = Date()
        let workers = try await store.listWorkers()
        let live = workers.filter {
            $0.status == .running && now.timeIntervalSince($0.heartbeatAt) < Self.liveWorkerWindow
        }.count

        for status in JobStatus.allCases {
            gauge("jobs", "", "Crawl jobs by status", [("status", status.rawValue)]).set(Double(jobs[status, default: 0]))
        }
        for status in ChunkStatus.allCases {
            gauge("chunks", "", "Chunks by status", [("status", status.rawValue)]).set(Double(chunks[status, default: 0]))
        }
        gauge("queue_depth", "", "Chunks waiting to be claimed").set(Double(chunks[.pending, default: 0]))
        gauge("images_accepted", "", "Validated images stored").set(Double(accepted))
        gauge("images_downloaded", "", "Candidates fully downloaded").set(Double(downloaded))
        for category in ErrorCategory.allCases {
            gauge("images_rejected", "", "Rejected candidates and failures by category", [("category", category.rawValue)])
                .set(Double(rejected[category, default: 0]))
        }
        gauge("workers_live", "", "Workers running with a recent heartbeat").set(Double(live))
        gauge("export_bytes", "", "Bytes of completed export archives").set(Double(exportBytes))
        gauge("exports_completed", "", "Completed exports").set(Double(exportsCompleted))
        return registry.emitToString() + PixMetrics.render()
    }
}
