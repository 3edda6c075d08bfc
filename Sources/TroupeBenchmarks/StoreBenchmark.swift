import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeSQLite
import TroupeStore
import TroupeRuntime
import TroupeVault

/// `troupe bench store`: import throughput, single-put and lexical-recall latency, size on disk
/// and peak memory, on a fresh SQLite store in a temporary directory. Prints figures; asserts
/// nothing.
public struct StoreBenchmark: Sendable {
    public var records: Int
    public var puts: Int
    public var recalls: Int
    /// Whether the store is encrypted by a vault (made for the run, its key in a file): every
    /// value sealed on the way in and opened on the way out, and a data-key rotation timed.
    public var encrypted: Bool

    public init(records: Int = 100_000, puts: Int = 2000, recalls: Int = 1000, encrypted: Bool = false) {
        self.records = records
        self.puts = puts
        self.recalls = recalls
        self.encrypted = encrypted
    }

    public struct Result: Sendable {
        public var records: Int
        public var importSeconds: Double
        public var put: Percentiles
        /// Loading every record into the recall index (the first recall of a process).
        public var indexLoadSeconds: Double
        public var recall: Percentiles
        public var bytesOnDisk: Int64
        public var peakRSS: Int64
        public var encrypted = false
        /// A rotation of every data key: values sealed again, and how long it took.
        public var resealed = 0
        public var resealSeconds = 0.0

        public var importRate: Double { Double(records) / importSeconds }

        public var text: String {
            let rotation = encrypted
                ? "\n  key rotation:   \(ProgressLine.grouped(Int(Double(resealed) / max(resealSeconds, 1e-9)))) values/s sealed again (\(ProgressLine.grouped(resealed)) values, \(String(format: "%.2f", resealSeconds)) s, committed batches of 500 rows)"
                : ""
            return """
            store benchmark (SQLite WAL, synchronous=FULL, \(ProgressLine.grouped(records)) records, \(encrypted ? "encrypted (AES-256-GCM)" : "plain"))
              import:         \(ProgressLine.grouped(Int(importRate))) records/s (\(String(format: "%.2f", importSeconds)) s, validation pass included)
              put:            p50 \(ms(put.p50))  p99 \(ms(put.p99))  max \(ms(put.max))  (one committed transaction each, n=\(put.count))
              index load:     \(String(format: "%.2f", indexLoadSeconds)) s  (every record into the in-memory recall index, once per process)
              lexical recall: p50 \(ms(recall.p50))  p99 \(ms(recall.p99))  max \(ms(recall.max))  (BM25 + recency + importance, top 10, n=\(recall.count))
              size on disk:   \(ByteCount.format(bytesOnDisk))
              peak RSS:       \(ByteCount.format(peakRSS))\(rotation)
            """
        }

        public var json: JSONValue {
            .object([
                "records": .number(Double(records)), "import_records_per_s": .number(importRate.rounded()),
                "put_p50_ms": .number(put.p50 * 1000), "put_p99_ms": .number(put.p99 * 1000),
                "index_load_s": .number(indexLoadSeconds), "recall_p50_ms": .number(recall.p50 * 1000), "recall_p99_ms": .number(recall.p99 * 1000),
                "bytes_on_disk": .number(Double(bytesOnDisk)), "peak_rss_bytes": .number(Double(peakRSS)),
                "encrypted": .bool(encrypted), "resealed_values": .number(Double(resealed)), "reseal_s": .number(resealSeconds),
            ])
        }

        private func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }
    }

    /// Percentiles of a set of durations in seconds.
    public struct Percentiles: Sendable {
        public var count: Int
        public var p50: Double
        public var p99: Double
        public var max: Double

        public init(_ samples: [Double]) {
            let sorted = samples.sorted()
            count = sorted.count
            func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            p50 = at(0.5)
            p99 = at(0.99)
            max = sorted.last ?? 0
        }
    }

    public func run(log: (String) -> Void) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var rng = SplitMix64(seed: 42)
        let owners: [PersonaID] = ["athena", "artemis", "hestia", "bellona", "seshat"]
        let file = directory.appendingPathComponent("bench.jsonl")
        log("writing \(ProgressLine.grouped(records)) records to \(file.path)")
        try writeCorpus(to: file, owners: owners, rng: &rng)

        let vault = try encrypted
            ? Vault.create(directory: directory.appendingPathComponent("vault"), source: .file(directory.appendingPathComponent("vault/master.key")))
            : nil
        let store = try SQLiteStore(path: directory.appendingPathComponent("memory.sqlite").path, sealer: vault ?? PlainSealer())
        let clock = SystemClock()
        log("importing")
        let importer = MemoryImporter(
            store: store, context: MemoryLine.Context(knownOwners: Set(owners), now: clock.now()), options: .init(batchSize: 2000))
        let report = try await importer.run(file: file)
        guard report.invalid == 0 else { throw TroupeError(.invalidInput, "benchmark corpus has \(report.invalid) invalid lines") }

        log("timing \(puts) puts")
        var putTimes: [Double] = []
        for i in 0..<puts {
            let record = MemoryRecord(
                id: "bench-put-\(i)", owner: owners[i % owners.count], slice: .episodic,
                content: Self.sentence(&rng, words: 14), source: "bench", createdAt: clock.now())
            let start = DispatchTime.now()
            try await store.put(record)
            putTimes.append(Self.seconds(since: start))
        }

        log("timing \(recalls) recalls")
        let index = RecallIndex(source: store, model: nil, dimension: 384)
        let recaller = Recaller(store: store, index: index, embedder: nil, weights: RecallWeights(), clock: clock)
        let loadStart = DispatchTime.now()
        _ = try await recaller.recall(RecallRequest(query: "warm up", owners: owners, limit: 10))
        let loadSeconds = Self.seconds(since: loadStart)
        var recallTimes: [Double] = []
        for i in 0..<recalls {
            let request = RecallRequest(query: Self.sentence(&rng, words: 3), owners: [owners[i % owners.count]], limit: 10)
            let start = DispatchTime.now()
            _ = try await recaller.recall(request)
            recallTimes.append(Self.seconds(since: start))
        }
        let stats = try await store.stats()
        var result = Result(
            records: records, importSeconds: report.seconds, put: Percentiles(putTimes), indexLoadSeconds: loadSeconds,
            recall: Percentiles(recallTimes),
            bytesOnDisk: stats.bytesOnDisk ?? 0, peakRSS: Self.peakRSS(), encrypted: encrypted)
        if let vault {
            log("rotating every data key")
            _ = try vault.beginRotation(owners: nil)
            let start = DispatchTime.now()
            while true {
                let batch = try await store.resealBatch(marker: "bench_reseal", limit: 500, from: vault, to: vault)
                result.resealed += batch.resealed
                if batch.finished { break }
            }
            result.resealSeconds = Self.seconds(since: start)
            try vault.finishRotation()
        }
        return result
    }

    func writeCorpus(to file: URL, owners: [PersonaID], rng: inout SplitMix64) throws {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var buffer = ""
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        for i in 0..<records {
            let record = MemoryRecord(
                id: "bench-\(i)", owner: owners[i % owners.count], slice: SliceKind.allCases[(i / 5) % 4],
                content: Self.sentence(&rng, words: 8 + Int(rng.next() % 24)), importance: Double(rng.next() % 100) / 100,
                tags: ["t\(rng.next() % 20)"], source: "bench", createdAt: start.addingTimeInterval(Double(i) * 60))
            buffer += MemoryLine.encode(record) + "\n"
            if buffer.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer = ""
            }
        }
        try handle.write(contentsOf: Data(buffer.utf8))
    }

    /// Words drawn with a Zipf-like skew, so some words are common and most are rare, as in text.
    static func sentence(_ rng: inout SplitMix64, words: Int) -> String {
        (0..<words).map { _ in
            let u = Double(rng.next() % 1_000_000) / 1_000_000
            let index = Int(pow(Double(Self.vocabulary.count), u)) - 1
            return Self.vocabulary[max(0, min(Self.vocabulary.count - 1, index))]
        }.joined(separator: " ")
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// The process's peak resident set (VmHWM), in bytes.
    public static func peakRSS() -> Int64 { memoryStatus("VmHWM:") }

    /// The resident set now.
    public static func currentRSS() -> Int64 { memoryStatus("VmRSS:") }

    /// A size line of /proc/self/status, in bytes (0 where there is none).
    private static func memoryStatus(_ key: String) -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
            let kb = Int64(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb * 1024
    }

    static let vocabulary: [String] = """
        the team decided to use sqlite for memory because it is durable and local we measured latency at p99 \
        redis cache hot tier persona athena artemis hestia bellona seshat architecture performance security \
        documentation coordination incident outage deploy rollback canary release review test benchmark \
        query index vector embedding recall semantic episodic procedural working shared slice conflict \
        version history audit policy priority writer reader lock transaction commit crash recovery backup \
        export import schema migration config yaml persona prompt model token batch throughput bandwidth \
        memory disk network socket server client request response error timeout retry backoff queue worker \
        customer report meeting decision reason risk owner deadline budget estimate plan milestone roadmap \
        threat model secret key password token rotation audit compliance privacy encryption access control \
        profile flame graph cpu cache miss allocation copy serialization parser compiler optimisation loop \
        glossary runbook tutorial reference guide example note summary changelog readme diagram onboarding \
        monday tuesday friday morning evening week month quarter year yesterday today tomorrow always never \
        fast slow large small stable flaky green red blocked done open closed urgent minor major critical
        """.split(separator: " ").map(String.init)
}
