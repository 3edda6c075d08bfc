import Foundation
import TroupeCore
import TroupeRuntime
import TroupeSQLite
import TroupeStore

/// `troupe bench graph`: the belief graph over a SQLite store of formed facts (each with a
/// model's reading and a person's provenance, a share of them superseded): how long reading
/// them and building the index takes, and how long `--about ENTITY` takes on it, now and as of
/// a past time. Prints figures; asserts nothing.
public struct GraphBenchmark: Sendable {
    public var facts: Int
    public var queries: Int

    public init(facts: Int = 100_000, queries: Int = 2000) {
        self.facts = facts
        self.queries = queries
    }

    public struct Result: Sendable {
        public var facts: Int
        public var superseded: Int
        public var entities: Int
        public var edges: Int
        public var edgesWithHistory: Int
        public var writeSeconds: Double
        /// Of the build: reading the current records from the store, and deriving and indexing the edges.
        public var readSeconds: Double
        public var indexSeconds: Double
        public var buildSeconds: Double
        public var buildWithHistorySeconds: Double
        public var about: StoreBenchmark.Percentiles
        public var aboutAsOf: StoreBenchmark.Percentiles
        /// A long-lived runtime's question: the store's change cursor read, then the kept graph asked.
        public var aboutKept: StoreBenchmark.Percentiles
        public var meanEdgesPerAnswer: Double

        public var text: String {
            let g = ProgressLine.grouped
            return """
                graph benchmark (SQLite, \(g(facts)) formed facts, \(g(superseded)) of them superseded once)
                  write:            \(String(format: "%.2f", writeSeconds)) s (facts and their new versions, batches of 2,000)
                  build (current):  \(String(format: "%.3f", buildSeconds)) s → \(g(entities)) entities, \(g(edges)) edges (read from the store and indexed)
                    of which:       \(String(format: "%.3f", readSeconds)) s reading the records, \(String(format: "%.3f", indexSeconds)) s deriving and indexing the edges
                  build (history):  \(String(format: "%.3f", buildWithHistorySeconds)) s → \(g(edgesWithHistory)) edges (superseded versions read too, for --as-of)
                  --about:          p50 \(ms(about.p50))  p99 \(ms(about.p99))  max \(ms(about.max))  (n=\(about.count), \(String(format: "%.1f", meanEdgesPerAnswer)) edges an answer)
                  --about --as-of:  p50 \(ms(aboutAsOf.p50))  p99 \(ms(aboutAsOf.p99))  max \(ms(aboutAsOf.max))  (n=\(aboutAsOf.count))
                  kept graph:       p50 \(ms(aboutKept.p50))  p99 \(ms(aboutKept.p99))  max \(ms(aboutKept.max))  (a long-lived runtime: change check + --about)
                """
        }

        public var json: JSONValue {
            .object([
                "facts": .number(Double(facts)), "superseded": .number(Double(superseded)), "entities": .number(Double(entities)),
                "edges": .number(Double(edges)), "build_s": .number(buildSeconds), "read_s": .number(readSeconds), "index_s": .number(indexSeconds), "build_history_s": .number(buildWithHistorySeconds),
                "about_p50_ms": .number(about.p50 * 1000), "about_p99_ms": .number(about.p99 * 1000), "about_max_ms": .number(about.max * 1000),
                "about_as_of_p50_ms": .number(aboutAsOf.p50 * 1000), "about_as_of_p99_ms": .number(aboutAsOf.p99 * 1000),
                "about_kept_p50_ms": .number(aboutKept.p50 * 1000), "about_kept_p99_ms": .number(aboutKept.p99 * 1000),
            ])
        }

        private func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }
    }

    static let attributes = [
        "employer", "city", "editor", "car", "launch date", "budget", "manager", "team", "language", "laptop", "role", "office", "project",
        "deadline", "owner", "version", "region", "database", "client", "vendor",
    ]

    public func run(log: (String) -> Void) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("memory.sqlite").path)
        let owners: [PersonaID] = ["athena", "artemis", "hestia", "bellona", "seshat"]
        let entities = max(10, facts / 20)
        var rng = SplitMix64(seed: 7)
        let start = Date(timeIntervalSince1970: 1_790_000_000)

        log("writing \(ProgressLine.grouped(facts)) facts")
        let writeStart = DispatchTime.now()
        var batch: [MemoryRecord] = []
        var superseded: [MemoryRecord] = []
        for i in 0..<facts {
            let subject = "entity \(rng.next() % UInt64(entities))", value = "entity \(rng.next() % UInt64(entities))"
            let attribute = Self.attributes[Int(rng.next() % UInt64(Self.attributes.count))]
            let record = Self.fact(
                id: "fact-\(i)", owner: owners[i % owners.count], subject: subject, attribute: attribute, value: value, turn: i,
                at: start.addingTimeInterval(Double(i) * 30))
            batch.append(record)
            if i % 20 == 0 { superseded.append(record) }
            if batch.count == 2000 { _ = try await store.upsert(batch, writer: "bench", at: start); batch.removeAll(keepingCapacity: true) }
        }
        if !batch.isEmpty { _ = try await store.upsert(batch, writer: "bench", at: start) }
        let later = start.addingTimeInterval(Double(facts) * 30 + 3600)
        for chunk in stride(from: 0, to: superseded.count, by: 2000) {
            let next = superseded[chunk..<min(chunk + 2000, superseded.count)].map { old -> MemoryRecord in
                guard case .object(var m)? = old.metadata, case .object(var reading)? = m["reading"] else { return old }
                reading["value"] = .string("entity \(rng.next() % UInt64(entities))")
                m["reading"] = .object(reading)
                var record = old
                record.content += " (updated)"
                record.metadata = .object(m)
                return record
            }
            _ = try await store.upsert(Array(next), writer: "bench", at: later)
        }
        let writeSeconds = StoreBenchmark.seconds(since: writeStart)

        log("reading the facts back")
        var clock = DispatchTime.now()
        var query = MemoryQuery(slices: [.semantic])
        query.order = .canonical
        query.limit = 5000
        var read: [MemoryRecord] = []
        while true {
            let page = try await store.query(query)
            read += page
            guard page.count == query.limit, let last = page.last else { break }
            query.after = last
        }
        let readSeconds = StoreBenchmark.seconds(since: clock)
        clock = DispatchTime.now()
        let derived = BeliefGraph.derive(from: read, personas: Set(owners.map(\.rawValue)))
        let indexSeconds = StoreBenchmark.seconds(since: clock)
        _ = derived.entityCount

        log("building the graph")
        let personas = Set(owners.map(\.rawValue))
        clock = DispatchTime.now()
        let graph = try await BeliefGraph.load(from: store, owners: nil, history: false, personas: personas)
        let buildSeconds = StoreBenchmark.seconds(since: clock)
        clock = DispatchTime.now()
        let full = try await BeliefGraph.load(from: store, owners: nil, history: true, personas: personas)
        let historySeconds = StoreBenchmark.seconds(since: clock)

        log("timing \(queries) --about queries")
        var now: [Double] = [], past: [Double] = [], kept: [Double] = []
        var answered = 0
        let asOf = start.addingTimeInterval(Double(facts) * 15)
        for _ in 0..<queries {
            let name = "Entity \(rng.next() % UInt64(entities))"
            var t = DispatchTime.now()
            answered += graph.about(name).count
            now.append(StoreBenchmark.seconds(since: t))
            t = DispatchTime.now()
            _ = full.about(name, at: asOf)
            past.append(StoreBenchmark.seconds(since: t))
            // What a long-lived runtime does for each question: check the change feed, then ask
            // the graph it kept.
            t = DispatchTime.now()
            _ = try await store.changeCursor()
            _ = graph.about(name)
            kept.append(StoreBenchmark.seconds(since: t))
        }
        return Result(
            facts: facts, superseded: superseded.count, entities: graph.entityCount, edges: graph.edges.count, edgesWithHistory: full.edges.count,
            writeSeconds: writeSeconds, readSeconds: readSeconds, indexSeconds: indexSeconds, buildSeconds: buildSeconds, buildWithHistorySeconds: historySeconds,
            about: .init(now), aboutAsOf: .init(past), aboutKept: .init(kept), meanEdgesPerAnswer: Double(answered) / Double(max(1, queries)))
    }

    /// A fact as formation writes it: the sentence, a person's provenance, a model's reading.
    static func fact(id: String, owner: PersonaID, subject: String, attribute: String, value: String, turn: Int, at time: Date) -> MemoryRecord {
        let metadata: JSONValue = .object([
            "said_by": .string("user"), "conversation": .string("bench"), "turn": .number(Double(turn)), "by": .string("person"),
            "method": .string("rules"), "basis": .string("stated"), "subject": .string(subject),
            "reading": .object(["subject": .string(subject), "attribute": .string(attribute), "value": .string(value), "ends": .bool(false), "by": .string("model")]),
        ])
        return MemoryRecord(
            id: id, owner: owner, slice: .semantic, content: "The \(attribute) of \(subject) is \(value).", source: owner.rawValue, createdAt: time,
            metadata: metadata)
    }
}
