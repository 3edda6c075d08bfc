import Foundation
import TroupeCore
import TroupePostgres
import TroupeRetrieval
import TroupeSQLite
import TroupeStore

/// SQLite against PostgreSQL on this machine: committed writes (a record and its 384-dimension
/// vector in one transaction) from 1 and 4 processes at once, and how soon a write in one
/// process is found by recall in another on PostgreSQL (announced on the store's channel, then
/// read from the change feed into the other process's index, as a long-lived runtime does).
public struct PostgresBenchmark: Sendable {
    public var writes = 1000
    public var freshnessWrites = 300
    /// Records (with vectors) `troupe migrate` copies from SQLite to PostgreSQL; 0 skips it.
    public var migrateRecords = 200_000
    /// A server to use instead of a scratch one (its `public` schema is not touched: the
    /// benchmark writes into schemas of its own and drops them).
    public var url: String?

    public init() {}

    /// What one worker process does: `writes` puts after `startAt`, each timed (seconds).
    public static func worker(store: any MemoryStore, writes: Int, prefix: String, startAt: Double) async throws -> [Double] {
        let vectors = RandomVectors.unitVectors(writes, dimension: 384, seed: UInt64(abs(prefix.hashValue) % 1000))
        try await sleep(until: startAt)
        var samples: [Double] = []
        samples.reserveCapacity(writes)
        for i in 0..<writes {
            let record = MemoryRecord(
                id: "\(prefix)-\(i)", owner: "bench", slice: .episodic, content: "\(prefix) wrote note \(i) about the release", source: "bench", createdAt: Date())
            let start = DispatchTime.now().uptimeNanoseconds
            try await store.put(record, vector: EmbeddedVector(model: "bench", values: vectors[i]))
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return samples
    }

    /// Runs every part; `spawn` starts a worker process with the arguments given and returns
    /// its samples when it ends.
    public func run(
        spawn: @escaping @Sendable ([String]) async throws -> [Double], log: (String) -> Void
    ) async throws -> String {
        let scratch = url == nil ? try ScratchPostgres() : nil
        defer { scratch?.stop() }
        let server = url ?? scratch!.url
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var lines = ["PostgreSQL store vs SQLite, same machine (\(writes) committed writes per process, record + vector each)"]
        for processes in [1, 4] {
            for backend in ["sqlite", "postgres"] {
                let target: [String]
                let schema = "bench_\(processes)_\(UUID().uuidString.prefix(8).lowercased())"
                if backend == "sqlite" {
                    target = ["--store", directory.appendingPathComponent("w\(processes).sqlite").path]
                    // Created once, so that the workers do not race to make the schema.
                    _ = try SQLiteStore(path: target[1])
                } else {
                    target = ["--store", server, "--schema", schema]
                    _ = try PostgresStore(location: PostgresLocation(url: server, schema: schema), connections: 1)
                }
                log("bench: \(backend), \(processes) process\(processes == 1 ? "" : "es")")
                let startAt = Date().timeIntervalSince1970 + 2
                let started = Date()
                let samples = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for p in 0..<processes {
                        group.addTask {
                            try await spawn(target + ["--writes", String(writes), "--prefix", "p\(p)", "--start-at", String(startAt)])
                        }
                    }
                    return try await group.reduce(into: [Double]()) { $0 += $1 }
                }
                let elapsed = Date().timeIntervalSince(started) - max(0, startAt - started.timeIntervalSince1970)
                let p = StoreBenchmark.Percentiles(samples)
                let name = (backend == "sqlite" ? "SQLite,    " : "PostgreSQL,") + (processes == 1 ? " 1 process:  " : " 4 processes:")
                lines.append(String(
                    format: "  %@ %6.0f writes/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms (n=%d)", name, Double(samples.count) / elapsed,
                    p.p50 * 1000, p.p99 * 1000, p.max * 1000, p.count))
                if backend == "postgres" { try await Self.drop(schema, url: server) }
            }
        }
        log("bench: cross-process freshness")
        let fresh = try await freshness(url: server, spawn: spawn)
        lines.append(String(
            format: "  freshness (write acknowledged in process A → found by a search of process B's recall index, woken by LISTEN/NOTIFY): p50 %.2f ms, p99 %.2f ms, max %.1f ms (n=%d)",
            fresh.p50 * 1000, fresh.p99 * 1000, fresh.max * 1000, fresh.count))
        if migrateRecords > 0 {
            log("bench: migrate \(migrateRecords) records with vectors, SQLite → PostgreSQL")
            lines.append(try await migration(url: server, directory: directory))
        }
        return lines.joined(separator: "\n")
    }

    /// Fills a SQLite store with `migrateRecords` records and 384-dimension vectors, then copies
    /// it to a new schema the way `troupe migrate` does, and verifies.
    private func migration(url: String, directory: URL) async throws -> String {
        let source = try SQLiteStore(path: directory.appendingPathComponent("migrate.sqlite").path)
        let owners: [PersonaID] = ["athena", "artemis", "hestia", "bellona", "seshat"]
        try await CoordinatorBenchmark.fill(source, owners: owners, perOwner: migrateRecords / owners.count, embedder: HashingEmbedder())
        let schema = "bench_migrate_\(UUID().uuidString.prefix(8).lowercased())"
        let target = try PostgresStore(location: PostgresLocation(url: url, schema: schema), connections: 2)
        let migration = StoreMigration(from: source, to: target)
        let start = Date()
        let landed = try await migration.run { _ in }
        let copied = Date().timeIntervalSince(start)
        let checks = try await migration.verify()
        let verified = Date().timeIntervalSince(start) - copied
        try await Self.drop(schema, url: url)
        let records = landed[.records] ?? 0
        return String(
            format: "  migrate SQLite → PostgreSQL: %d records with vectors in %.1f s (%.0f records/s); verification %.1f s, %@",
            records, copied, Double(records) / copied, verified, checks.allSatisfy(\.matches) ? "all groups equal" : "DIFFERENCES")
    }

    /// Writes in this process (A), one every 5 ms, while another process (B, `reader`) follows
    /// the store with a recall index of its own; a write's freshness is the wall time from its
    /// acknowledgement in A to the first search in B that finds it.
    private func freshness(
        url: String, spawn: @escaping @Sendable ([String]) async throws -> [Double]
    ) async throws -> StoreBenchmark.Percentiles {
        let schema = "bench_fresh_\(UUID().uuidString.prefix(8).lowercased())"
        let a = try PostgresStore(location: PostgresLocation(url: url, schema: schema), connections: 1)
        let startAt = Date().timeIntervalSince1970 + 3
        let writes = freshnessWrites
        let reader = Task { try await spawn(["--store", url, "--schema", schema, "--read", String(writes)]) }
        try await Self.sleep(until: startAt)
        var acknowledged: [Double] = []
        for i in 0..<writes {
            let record = MemoryRecord(
                id: "f\(i)", owner: "bench", slice: .episodic, content: "a fresh note \(Self.marker(i))", source: "bench", createdAt: Date())
            try await a.put(record)
            acknowledged.append(Date().timeIntervalSince1970)
            try await Task.sleep(for: .milliseconds(5))
        }
        let found = try await reader.value
        guard found.count == writes else { throw TroupeError(.unavailable, "the reader process found \(found.count) of \(writes) writes") }
        try await Self.drop(schema, url: url)
        return StoreBenchmark.Percentiles(zip(found, acknowledged).map { max(0, $0 - $1) })
    }

    /// What the reader process does: keeps a recall index of `store` current the way a
    /// long-lived runtime does (woken by the store's channel, then reading the change feed) and
    /// returns, for each of `writes` records in write order, the wall time at which a lexical
    /// search first found it.
    public static func reader(store: PostgresStore, writes: Int) async throws -> [Double] {
        let index = RecallIndex(source: store, model: nil, dimension: 384)
        let listener = PostgresChangeListener(store: store)
        defer { listener.stop() }
        try await index.catchUp()
        var seen: Int64 = 0
        var found: [Double] = []
        var progress = Date()
        while found.count < writes {
            // The writer died (or stalled): give up rather than wait for ever.
            guard Date().timeIntervalSince(progress) < 60 else { throw TroupeError(.unavailable, "no write arrived for 60 s") }
            let id = "f\(found.count)"
            let query = IndexQuery(
                terms: LexicalTokenizer.tokens(marker(found.count)), vector: nil, owners: ["bench"], slices: nil, candidates: 1000)
            if try await index.search([query])[0].contains(where: { $0.id == id }) {
                found.append(Date().timeIntervalSince1970)
                progress = Date()
                continue
            }
            seen = await listener.next(after: seen)
            try await index.catchUp()
        }
        return found
    }

    /// Waits until the wall clock reads `time` (seconds since 1970), which every process of the
    /// benchmark shares.
    static func sleep(until time: Double) async throws {
        let wait = time - Date().timeIntervalSince1970
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
    }

    /// A word of letters only that no other write of the benchmark contains.
    static func marker(_ i: Int) -> String {
        var word = "", n = i
        repeat {
            word.append(Character(UnicodeScalar(UInt8(ascii: "b") + UInt8(n % 20))))
            n /= 20
        } while n > 0
        return "zq" + word + "x"
    }

    private static func drop(_ schema: String, url: String) async throws {
        let store = try PostgresStore(location: PostgresLocation(url: url, schema: schema), connections: 1)
        try await store.dropSchema()
    }
}
