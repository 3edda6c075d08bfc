import Foundation
import Metrics
import TroupeCore
import TroupeStore

/// What the runtime counts and times, through swift-metrics. The library only emits: a process
/// that bootstraps a metrics backend (`troupe serve`, for Prometheus at `/metrics`) sees these;
/// in any other, they cost a call into swift-metrics' no-op handlers.
///
/// Names are Prometheus's (`troupe_…`, seconds for durations).
enum RuntimeMetrics {
    /// A recall, from request to ranked hits; `cache` is `hit` or `miss` on the hot tier's recall
    /// cache, `none` when the request does not go through it.
    static func recall(seconds: Double, cache: String) {
        Timer(label: "troupe_recall_duration_seconds", dimensions: [("cache", cache)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(seconds * 1e9))
        if cache != "none" { Counter(label: "troupe_hot_tier_recall_cache_total", dimensions: [("result", cache)]).increment() }
    }

    /// Records committed (added or given a new version) and removed, by slice.
    static func committed(_ written: [MemoryRecord], removed: [MemoryRecord]) {
        for record in written { Counter(label: "troupe_memory_writes_total", dimensions: [("slice", record.slice.rawValue)]).increment() }
        for record in removed { Counter(label: "troupe_memory_forgets_total", dimensions: [("slice", record.slice.rawValue)]).increment() }
    }

    /// A stale shared write, resolved by its slice's policy.
    static func conflict(policy: ConflictPolicy, outcome: SharedWriteOutcome.Kind) {
        Counter(label: "troupe_shared_conflicts_total", dimensions: [("policy", policy.rawValue), ("outcome", outcome.rawValue)])
            .increment()
    }

    /// A chat turn: its whole time, the model's first token, and the model's tokens a second.
    static func turn(_ record: TurnRecord) {
        let t = record.timings
        Timer(label: "troupe_turn_duration_seconds", preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64((t.recall + t.assembly + t.model + t.storing) * 1e6))
        if let first = t.firstToken {
            Timer(label: "troupe_turn_first_token_seconds", preferredDisplayUnit: .seconds).recordNanoseconds(Int64(first * 1e6))
        }
        if record.completionTokens > 0, t.model > 0 {
            Recorder(label: "troupe_turn_tokens_per_second", aggregate: true).record(Double(record.completionTokens) / (t.model / 1000))
        }
    }

    /// Formation jobs written down and not done, in the whole store.
    static func formationQueue(depth: Int) {
        Gauge(label: "troupe_formation_queue_depth").record(depth)
    }

    /// How far the mirror named `name` is behind the primary: changes it lacks, and the age of
    /// the oldest of them.
    static func mirror(_ lag: MirrorLag, name: String) {
        Gauge(label: "troupe_mirror_pending_changes", dimensions: [("mirror", name)]).record(lag.pendingChanges)
        Gauge(label: "troupe_mirror_lag_seconds", dimensions: [("mirror", name)]).record(lag.seconds)
    }
}

extension Runtime {
    /// Brings the metrics measured by looking (rather than counted as things happen) up to date:
    /// what a scrape of `/metrics` calls first.
    public func refreshMetrics() async {
        if let pending = try? await formation.pending() { RuntimeMetrics.formationQueue(depth: pending.count) }
        await mirrorLag()
    }
}
