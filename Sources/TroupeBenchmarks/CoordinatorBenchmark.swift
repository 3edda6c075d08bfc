import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore
import TroupeRuntime

/// `troupe bench coordinator`: writes to a shared slice by 1, 8 and 32 concurrent persona
/// writers (throughput, latency, conflicts and how long they took to resolve), and rounds of
/// recalls by eight personas, batched against one at a time. Prints figures; asserts nothing.
public enum CoordinatorBenchmark {
    /// One run of concurrent writers.
    public struct Writes: Sendable {
        public var writers: Int
        public var seconds: Double
        /// Every write, from before its read of the current version to its acknowledgement.
        public var latency: StoreBenchmark.Percentiles
        /// The writes that were stale, resolved by the policy.
        public var resolution: StoreBenchmark.Percentiles
        public var outcomes: [SharedWriteOutcome.Kind: Int]
        /// Transactions the coordinator committed them in.
        public var commits: Int

        public var writes: Int { latency.count }
        public var throughput: Double { Double(writes) / seconds }
        public var conflicts: Int { writes - (outcomes[.applied] ?? 0) }

        public var json: JSONValue {
            var counts: [String: JSONValue] = [:]
            for kind in [SharedWriteOutcome.Kind.applied, .overwrote, .keptCurrent, .keptBoth, .rejected] {
                counts[kind.rawValue] = .number(Double(outcomes[kind] ?? 0))
            }
            return .object([
                "kind": .string("writes"), "writers": .number(Double(writers)), "writes": .number(Double(writes)),
                "seconds": .number(seconds), "writes_per_s": .number(throughput.rounded()),
                "p50_ms": .number(latency.p50 * 1000), "p99_ms": .number(latency.p99 * 1000),
                "conflicts": .number(Double(conflicts)), "resolution_p99_ms": .number(resolution.p99 * 1000),
                "commits": .number(Double(commits)), "outcomes": .object(counts),
            ])
        }
    }

    /// `writers` persona tasks (round robin over `personas`), each writing `writesPerWriter`
    /// times over `records`: read the current version, write a new value based on it. Values
    /// are distinct within a run, and across runs with different `label`s.
    public static func writes(
        coordinator: Coordinator, personas: [PersonaID], writers: Int, writesPerWriter: Int, records: [String], label: String = "run"
    ) async throws -> Writes {
        precondition(!personas.isEmpty && !records.isEmpty)
        let before = await coordinator.committed.commits
        let start = DispatchTime.now()
        let samples = try await withThrowingTaskGroup(of: [(Double, SharedWriteOutcome.Kind)].self) { group in
            for w in 0..<writers {
                let name = personas[w % personas.count]
                group.addTask {
                    let persona = try await coordinator.persona(name.rawValue)
                    var done: [(Double, SharedWriteOutcome.Kind)] = []
                    done.reserveCapacity(writesPerWriter)
                    for n in 0..<writesPerWriter {
                        let id = records[(n + w) % records.count]
                        let began = DispatchTime.now()
                        let base = try await persona.record(id).version
                        let change = MemoryChange(content: "\(label) writer \(w) write \(n): the figure is \(n * 7 % 101)")
                        let kind: SharedWriteOutcome.Kind
                        do {
                            kind = try await persona.update(id, basedOn: base, change: change).kind
                        } catch let error as TroupeError where error.code == .conflict {
                            kind = .rejected
                        }
                        done.append((StoreBenchmark.seconds(since: began), kind))
                    }
                    return done
                }
            }
            return try await group.reduce(into: [(Double, SharedWriteOutcome.Kind)]()) { $0 += $1 }
        }
        let seconds = StoreBenchmark.seconds(since: start)
        return Writes(
            writers: writers, seconds: seconds, latency: StoreBenchmark.Percentiles(samples.map(\.0)),
            resolution: StoreBenchmark.Percentiles(samples.filter { $0.1 != .applied }.map(\.0)),
            outcomes: samples.reduce(into: [:]) { $0[$1.1, default: 0] += 1 },
            commits: await coordinator.committed.commits - before)
    }

    /// Rounds in which eight personas recall at once: through the coordinator's batcher (one
    /// embedding pass and one scoring pass per partition for the round), and one recall after
    /// another without it. Seconds per round, for each.
    public static func recalls(
        coordinator: Coordinator, recaller: Recaller, personas: [PersonaActor], rounds: Int, log: (String) -> Void
    ) async throws -> (batched: StoreBenchmark.Percentiles, single: StoreBenchmark.Percentiles, batches: Int) {
        var rng = SplitMix64(seed: 21)
        // Warm up: index loaded, model mapped.
        for persona in personas { _ = try await persona.recall("warm up") }
        let batchesBefore = await coordinator.recallBatches.batches
        var batched: [Double] = [], single: [Double] = []
        log("timing \(rounds) rounds of \(personas.count) recalls, batched and one by one")
        for _ in 0..<rounds {
            let queries = personas.map { _ in StoreBenchmark.sentence(&rng, words: 6) }
            var start = DispatchTime.now()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (persona, query) in zip(personas, queries) {
                    group.addTask { _ = try await persona.recall(query) }
                }
                try await group.waitForAll()
            }
            batched.append(StoreBenchmark.seconds(since: start))
            start = DispatchTime.now()
            for (persona, query) in zip(personas, queries) {
                _ = try await recaller.recall(RecallRequest(query: query, owners: persona.readableOwners, limit: 10))
            }
            single.append(StoreBenchmark.seconds(since: start))
        }
        let batches = await coordinator.recallBatches.batches - batchesBefore
        return (StoreBenchmark.Percentiles(batched), StoreBenchmark.Percentiles(single), batches)
    }

    // MARK: A home of its own

    /// Writes a config and `personas` persona files into `directory` (one shared slice, `bench-shared`,
    /// with every persona as a member and `policy`; `redis.mode` as given), and loads it.
    public static func home(in directory: URL, personas: Int, policy: ConflictPolicy, redis: String = "off") throws -> Configuration {
        let personaDirectory = directory.appendingPathComponent("personas")
        try FileManager.default.createDirectory(at: personaDirectory, withIntermediateDirectories: true)
        let names = (0..<personas).map { String(format: "bench-%02d", $0) }
        for (i, name) in names.enumerated() {
            try """
                name: \(name)
                display_name: Bench \(i)
                role: benchmark writer
                description: A persona that writes for the coordinator benchmark.
                system_prompt: You write figures to the shared slice.
                priority: \(10 + (i * 37) % 90)
                shared: [bench-shared]

                """.write(to: personaDirectory.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        try """
            personas: personas
            redis:
              mode: \(redis)
            shared_slices:
              - name: bench-shared
                kind: semantic
                members: [\(names.joined(separator: ", "))]
                policy: \(policy.rawValue)

            """.write(to: directory.appendingPathComponent("troupe.yaml"), atomically: true, encoding: .utf8)
        return try Configuration.load(configFlag: directory.appendingPathComponent("troupe.yaml").path, homeFlag: directory.path)
    }

    /// Memories for recall benchmarks: `perOwner` for each of `owners`, taking turns among
    /// `slices`, with random unit vectors under the embedder's model id (embedding them would
    /// take minutes and change no timing; queries are embedded for real).
    public static func fill(
        _ store: any MemoryStore, owners: [PersonaID], perOwner: Int, slices: [SliceKind] = [.episodic, .semantic], embedder: any Embedder
    ) async throws {
        var rng = SplitMix64(seed: 5)
        let now = Date()
        var seed: UInt64 = 1000
        for owner in owners {
            for start in stride(from: 0, to: perOwner, by: 2000) {
                let count = min(2000, perOwner - start)
                let records = (0..<count).map { i in
                    MemoryRecord(
                        id: "\(owner)-\(start + i)", owner: owner, slice: slices[(start + i) % slices.count],
                        content: StoreBenchmark.sentence(&rng, words: 12), source: "bench", createdAt: now.addingTimeInterval(-Double(i)))
                }
                _ = try await store.upsert(records, writer: "bench", at: now)
                let vectors = RandomVectors.unitVectors(count, dimension: embedder.dimension, seed: seed)
                seed += 1
                _ = try await store.storeVectors(zip(records, vectors).map {
                    RecordVector(id: $0.id, version: 1, model: embedder.modelID, values: $1)
                })
            }
        }
    }
}
