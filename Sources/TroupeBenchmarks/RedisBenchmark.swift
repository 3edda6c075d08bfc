import Foundation
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeRetrieval
import TroupeStore
import TroupeRuntime

/// `troupe bench redis`: the hot tier through our adapter on the managed unix socket, and the
/// same workload on SQLite alone. Writes (SQLite commit, then Redis), working-memory and episode
/// reads, recalls with repeated queries (the cache), pipelined commands, and a load of 10K items
/// written by eight personas at once. Prints figures; asserts nothing.
public struct RedisBenchmark: Sendable {
    public var personas = 8
    /// Working notes and episodes each persona writes before the reads.
    public var notes = 40, episodes = 200
    public var reads = 2000
    /// Semantic memories per persona for the recalls, and the recalls, a share of them repeats.
    public var facts = 2000, recalls = 400
    public var repeatShare = 0.2
    /// Items of the concurrent load.
    public var loadItems = 10_000
    /// Commands of the pipelined runs.
    public var pipelined = 100_000

    public init() {}

    /// The figures of one tier: Redis in front of SQLite, or SQLite alone.
    public struct Tier: Sendable {
        public var name: String
        /// Writes of single notes and episodes, acknowledged (SQLite committed, Redis written).
        public var writes: StoreBenchmark.Percentiles
        /// `workingMemory()` (the persona's capacity of live items) and `recentEpisodes(20)`.
        public var workingReads: StoreBenchmark.Percentiles
        public var episodeReads: StoreBenchmark.Percentiles
        /// Recalls over the semantic slice: all of them, and (hot tier) those the cache answered.
        public var recalls: StoreBenchmark.Percentiles
        public var cacheHits: StoreBenchmark.Percentiles?
        public var cacheMisses: StoreBenchmark.Percentiles?
        public var repeats = 0, repeatsFromCache = 0
        public var load: Load
    }

    /// Eight personas writing (and reading their working memory) at once.
    public struct Load: Sendable {
        public var items: Int
        public var seconds: Double
        public var writes: StoreBenchmark.Percentiles
        public var reads: StoreBenchmark.Percentiles
        /// Live working items and recent episodes afterwards: in SQLite, and hot in Redis.
        public var live: Int
        public var hot: Int?

        public var itemsPerSecond: Double { Double(items) / seconds }
    }

    /// Round trips and pipelines through the adapter.
    public struct Adapter: Sendable {
        public var ping: StoreBenchmark.Percentiles
        public var setsPerSecond: Double
        public var writeThroughsPerSecond: Double
        public var commands: Int
    }

    public struct Result: Sendable {
        public var hot: Tier
        public var sqlite: Tier
        public var adapter: Adapter
        public var model: String
        public var synchronous: String
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-\(UUID().uuidString)")
        let hotHome = root.appendingPathComponent("hot"), sqliteHome = root.appendingPathComponent("sqlite")
        defer {
            ManagedRedis(home: hotHome).stop()
            try? FileManager.default.removeItem(at: root)
        }
        let withRedis = try Runtime(configuration: CoordinatorBenchmark.home(in: hotHome, personas: personas, policy: .lastWriterWins, redis: "managed"))
        let alone = try Runtime(configuration: CoordinatorBenchmark.home(in: sqliteHome, personas: personas, policy: .lastWriterWins, redis: "off"))
        defer { Task { [withRedis, alone] in await withRedis.shutdown(); await alone.shutdown() } }
        guard let hot = await withRedis.hotTier(), await hot.ready() else {
            throw TroupeError(.unavailable, "the managed redis-server did not start (see `troupe doctor`)")
        }
        log("hot tier: managed redis-server at \(hot.client.endpoint)")
        let hotTier = try await measure(withRedis, name: "redis + sqlite", log: log)
        let sqliteTier = try await measure(alone, name: "sqlite alone", log: log)
        log("adapter: round trips and pipelines")
        let adapter = try await adapter(hot)
        return Result(
            hot: hotTier, sqlite: sqliteTier, adapter: adapter, model: withRedis.embedderChoice.modelID ?? "lexical only",
            synchronous: withRedis.configuration.runtime.storage.synchronous.rawValue)
    }

    /// The whole workload on one home: a runtime that writes without embedding (the model would
    /// dominate; bench retrieval measures it) and `workspace`, which recalls.
    private func measure(_ workspace: Runtime, name: String, log: @escaping @Sendable (String) -> Void) async throws -> Tier {
        let writing = try Runtime(configuration: workspace.configuration, embedsWrites: false)
        defer { Task { await writing.shutdown() } }
        let writer = writing.coordinator
        var actors: [PersonaActor] = []
        for persona in workspace.personas.prefix(personas) { actors.append(try await writer.persona(persona.name.rawValue)) }
        var rng = SplitMix64(seed: 7)

        log("\(name): \(notes) notes and \(episodes) episodes for each of \(actors.count) personas")
        var writes: [Double] = []
        for i in 0..<max(notes, episodes) {
            for persona in actors {
                if i < notes { writes.append(try await Self.time { _ = try await persona.note(StoreBenchmark.sentence(&rng, words: 10)) }) }
                if i < episodes {
                    writes.append(try await Self.time { _ = try await persona.remember(StoreBenchmark.sentence(&rng, words: 14), in: .episodic) })
                }
            }
        }

        log("\(name): \(reads) working-memory reads and \(reads) episode reads")
        var working: [Double] = [], recent: [Double] = []
        for _ in 0..<reads {
            let persona = actors[Int(rng.next() % UInt64(actors.count))]
            working.append(try await Self.time { _ = try await persona.workingMemory() })
            recent.append(try await Self.time { _ = try await persona.recentEpisodes(limit: 20) })
        }

        var tier = Tier(
            name: name, writes: .init(writes), workingReads: .init(working), episodeReads: .init(recent), recalls: .init([]),
            load: Load(items: 0, seconds: 0, writes: .init([]), reads: .init([]), live: 0))
        try await recallCache(workspace, actors: actors, into: &tier, log: log)
        tier.load = try await load(writer, actors: actors, log: { log("\(name): \($0)") })
        return tier
    }

    /// Recalls over the semantic slice, `repeatShare` of them repeating an earlier query.
    private func recallCache(_ workspace: Runtime, actors: [PersonaActor], into tier: inout Tier, log: (String) -> Void) async throws {
        guard facts > 0, recalls > 0 else { return }
        guard let embedder = try await workspace.embedder()?.embedder else { return log("no embedder (fallback: none): recalls skipped") }
        log("\(tier.name): \(facts) semantic memories for each persona, then \(recalls) recalls")
        try await CoordinatorBenchmark.fill(workspace.store, owners: actors.map(\.name), perOwner: facts, slices: [.semantic], embedder: embedder)
        let reader = workspace.coordinator
        var recallers: [PersonaActor] = []
        for persona in actors { recallers.append(try await reader.persona(persona.name.rawValue)) }
        for persona in recallers { _ = try await persona.recall("warm up", slices: [.semantic]) }
        var rng = SplitMix64(seed: 11)
        var asked: [(persona: Int, query: String)] = []
        var all: [Double] = [], hits: [Double] = [], misses: [Double] = []
        for _ in 0..<recalls {
            let repeated = !asked.isEmpty && Double(rng.next() % 1000) / 1000 < repeatShare
            let (who, query) = repeated
                ? asked[Int(rng.next() % UInt64(asked.count))]
                : (Int(rng.next() % UInt64(recallers.count)), StoreBenchmark.sentence(&rng, words: 6))
            if !repeated { asked.append((who, query)) }
            let before = await reader.hot?.counters.cacheHits ?? 0
            let seconds = try await Self.time { _ = try await recallers[who].recall(query, slices: [.semantic]) }
            all.append(seconds)
            guard let hot = await reader.hot else { continue }
            let hit = await hot.counters.cacheHits > before
            if hit { hits.append(seconds) } else { misses.append(seconds) }
            if repeated {
                tier.repeats += 1
                if hit { tier.repeatsFromCache += 1 }
            }
        }
        if await reader.hot == nil { tier.repeats = all.count - asked.count }
        tier.recalls = .init(all)
        if await reader.hot != nil {
            tier.cacheHits = .init(hits)
            tier.cacheMisses = .init(misses)
        }
    }

    /// `loadItems` notes and episodes written by all personas at once, each reading its working
    /// memory after every fourth write.
    private func load(_ coordinator: Coordinator, actors: [PersonaActor], log: (String) -> Void) async throws -> Load {
        log("\(loadItems) items written by \(actors.count) personas at once")
        let share = loadItems / actors.count
        let start = DispatchTime.now()
        let samples = try await withThrowingTaskGroup(of: (writes: [Double], reads: [Double]).self) { group in
            for (p, persona) in actors.enumerated() {
                group.addTask {
                    var rng = SplitMix64(seed: UInt64(100 + p))
                    var writes: [Double] = [], reads: [Double] = []
                    for i in 0..<share {
                        let text = StoreBenchmark.sentence(&rng, words: 10)
                        writes.append(try await Self.time {
                            if i % 2 == 0 { _ = try await persona.note(text) } else { _ = try await persona.remember(text, in: .episodic) }
                        })
                        if i % 4 == 3 { reads.append(try await Self.time { _ = try await persona.workingMemory() }) }
                    }
                    return (writes, reads)
                }
            }
            return try await group.reduce(into: (writes: [Double](), reads: [Double]())) {
                $0.writes += $1.writes
                $0.reads += $1.reads
            }
        }
        let seconds = StoreBenchmark.seconds(since: start)
        let now = coordinator.clock.now()
        let live = try await coordinator.store.query(MemoryQuery(slices: [.working], expiringAfter: now)).count
            + coordinator.store.query(MemoryQuery(slices: [.episodic], createdAfter: now.addingTimeInterval(-86_400))).count
        let held = await coordinator.hot?.stats().hotItems.values.reduce(0, +)
        return Load(items: share * actors.count, seconds: seconds, writes: .init(samples.writes), reads: .init(samples.reads), live: live, hot: held)
    }

    /// PING round trips, pipelined SETs, and pipelined write-throughs of ready records.
    private func adapter(_ hot: HotTier) async throws -> Adapter {
        let client = hot.client
        var pings: [Double] = []
        for _ in 0..<2000 { pings.append(try await Self.time { try await client.send(["PING"]) }) }
        let batch = 1000, batches = max(1, pipelined / batch)
        let value = RedisArgument(String(repeating: "x", count: 200))
        var start = DispatchTime.now()
        for b in 0..<batches {
            _ = try await client.pipeline((0..<batch).map { ["SET", "\(hot.namespace):bench:\(b * batch + $0)", value, "PX", "60000"] })
        }
        let sets = Double(batches * batch) / StoreBenchmark.seconds(since: start)
        let now = Date()
        let owner: PersonaID = "bench-pipeline"
        start = DispatchTime.now()
        for b in 0..<batches {
            await hot.didWrite((0..<batch).map { i in
                var record = MemoryRecord(
                    id: "pipe-\(b * batch + i)", owner: owner, slice: .working, content: "pipelined note \(b * batch + i)", source: "bench",
                    createdAt: now)
                record.expiresAt = now.addingTimeInterval(60)
                return record
            })
        }
        let writeThroughs = Double(batches * batch) / StoreBenchmark.seconds(since: start)
        return Adapter(ping: .init(pings), setsPerSecond: sets, writeThroughsPerSecond: writeThroughs, commands: batches * batch)
    }

    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now()
        try await body()
        return StoreBenchmark.seconds(since: start)
    }
}
