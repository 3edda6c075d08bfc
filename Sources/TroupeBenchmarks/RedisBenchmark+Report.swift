import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore
import TroupeRuntime

/// How `troupe bench redis` prints its figures: a table, or JSON lines.
extension RedisBenchmark.Result {
    public var text: String {
        func ms(_ p: StoreBenchmark.Percentiles?) -> String {
            guard let p, p.count > 0 else { return "—" }
            return String(format: "p50 %.3f ms, p99 %.3f ms", p.p50 * 1000, p.p99 * 1000)
        }
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
        func gain(_ a: StoreBenchmark.Percentiles, _ b: StoreBenchmark.Percentiles) -> String {
            a.p50 > 0 ? String(format: "%.1f×", b.p50 / a.p50) : "—"
        }
        var lines = [
            "hot tier through the adapter on the managed unix socket; SQLite synchronous=\(synchronous); recall model \(model)",
            "",
            [pad("", 34), pad("redis + sqlite", 34), pad("sqlite alone", 34), "p50 sqlite/redis"].joined(),
        ]
        for (label, a, b) in [
            ("write (SQLite commit, then Redis)", hot.writes, sqlite.writes),
            ("working-memory read", hot.workingReads, sqlite.workingReads),
            ("recent episodes read (20)", hot.episodeReads, sqlite.episodeReads),
            ("recall, semantic slice", hot.recalls, sqlite.recalls),
        ] {
            lines.append([pad(label, 34), pad(ms(a), 34), pad(ms(b), 34), gain(a, b)].joined())
        }
        let repeatShare = hot.repeats > 0 ? 100 * Double(hot.repeatsFromCache) / Double(hot.repeats) : 0
        lines += [
            "",
            "recall cache: \(hot.repeats) repeated queries of \(hot.recalls.count), \(hot.repeatsFromCache) answered from the cache ("
                + String(format: "%.0f%%", repeatShare) + "); hits \(ms(hot.cacheHits)), misses \(ms(hot.cacheMisses))",
            "",
            "load: \(hot.load.items) items by 8 personas at once (a working-memory read after every 4th write)",
        ]
        for tier in [hot, sqlite] {
            var line = "  " + pad(tier.name, 16) + String(format: "%6.0f items/s; writes ", tier.load.itemsPerSecond) + ms(tier.load.writes)
            line += "; reads " + ms(tier.load.reads)
            if let held = tier.load.hot { line += "; hot items \(held) (SQLite live: \(tier.load.live))" }
            lines.append(line)
        }
        lines += [
            "",
            "adapter: PING round trip \(ms(adapter.ping)); pipelined SET "
                + String(format: "%.0f/s", adapter.setsPerSecond) + ", pipelined write-through (Lua put) "
                + String(format: "%.0f/s", adapter.writeThroughsPerSecond) + " (\(adapter.commands) each, 1000 per pipeline)",
        ]
        return lines.joined(separator: "\n")
    }

    public var json: [JSONValue] {
        func p(_ x: StoreBenchmark.Percentiles?) -> JSONValue {
            guard let x else { return .null }
            return .object(["p50_ms": .number(x.p50 * 1000), "p99_ms": .number(x.p99 * 1000), "count": .number(Double(x.count))])
        }
        var rows: [JSONValue] = []
        for tier in [hot, sqlite] {
            rows.append(.object([
                "kind": .string("tier"), "tier": .string(tier.name), "write": p(tier.writes), "working_read": p(tier.workingReads),
                "episode_read": p(tier.episodeReads), "recall": p(tier.recalls), "cache_hit": p(tier.cacheHits), "cache_miss": p(tier.cacheMisses),
                "repeats": .number(Double(tier.repeats)), "repeats_from_cache": .number(Double(tier.repeatsFromCache)),
                "load_items_per_s": .number(tier.load.itemsPerSecond.rounded()), "load_write": p(tier.load.writes), "load_read": p(tier.load.reads),
                "load_live": .number(Double(tier.load.live)), "load_hot": tier.load.hot.map { .number(Double($0)) } ?? .null,
            ]))
        }
        rows.append(.object([
            "kind": .string("adapter"), "ping": p(adapter.ping), "pipelined_sets_per_s": .number(adapter.setsPerSecond.rounded()),
            "pipelined_write_throughs_per_s": .number(adapter.writeThroughsPerSecond.rounded()),
        ]))
        return rows
    }
}
