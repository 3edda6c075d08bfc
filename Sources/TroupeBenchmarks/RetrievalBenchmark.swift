import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeSQLite
import TroupeStore
import TroupeRuntime

/// `troupe bench retrieval`: the dense scorer at several shapes (the peers run beside it from
/// Scripts/bench), embedding throughput, and end-to-end recall at 100K memories. Prints figures;
/// asserts nothing.
public struct RetrievalBenchmark: Sendable {
    public var rows: [Int]
    public var queries: [Int]
    public var records: Int
    public var recalls: Int
    /// The weights and options of the end-to-end part (the runtime config's, from the CLI).
    public var weights = RecallWeights()
    public var options = RecallOptions()

    public init(rows: [Int] = [10_000, 100_000, 1_000_000], queries: [Int] = [1, 32, 256], records: Int = 100_000, recalls: Int = 1000) {
        self.rows = rows
        self.queries = queries
        self.records = records
        self.recalls = recalls
    }

    /// The scorer at every shape, one JSON object each, plus the machine's sgemm peak.
    public func scorer(log: (String) -> Void) -> (peak: Double, shapes: [ScorerBenchmark.Figures]) {
        log("measuring the sgemm peak")
        let peak = ScorerBenchmark.sgemmPeak()
        var shapes: [ScorerBenchmark.Figures] = []
        for n in rows {
            for q in queries {
                log("scoring \(ProgressLine.grouped(n)) × \(q)")
                shapes.append(ScorerBenchmark.measure(rows: n, queries: q, repeats: n >= 1_000_000 ? 5 : 15))
            }
        }
        return (peak, shapes)
    }

    /// Sentences per second for a batch of 256 sentences of about 20 tokens, and the GFLOP/s that implies.
    public static func embedding(_ embedder: MiniLMEmbedder, repeats: Int = 3) throws -> (sentencesPerSecond: Double, gflops: Double, tokens: Double) {
        var rng = SplitMix64(seed: 3)
        let sentences = (0..<256).map { _ in StoreBenchmark.sentence(&rng, words: 16) }
        let counts = embedder.tokenCounts(sentences)
        _ = try embedder.embed(Array(sentences.prefix(8)))
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            _ = try embedder.embed(sentences)
            best = min(best, StoreBenchmark.seconds(since: start))
        }
        return (256 / best, MiniLMEmbedder.flops(tokenCounts: counts) / best / 1e9, Double(counts.reduce(0, +)) / 256)
    }

    /// How the memories of the end-to-end part are spread.
    public enum Spread: String, Sendable {
        /// All of them readable by the asking persona (its own slices and a shared slice): the
        /// worst case, every vector scanned.
        case allReadable = "all readable"
        /// Across five personas and a shared slice, recalled by one persona: what a team sees.
        case team = "five personas"

        var owners: [PersonaID] {
            self == .allReadable ? ["athena", "team-decisions"] : ["athena", "artemis", "hestia", "bellona", "seshat", "team-decisions"]
        }
        var readable: [PersonaID] { ["athena", "team-decisions"] }
    }

    /// Recall latency at `records` memories with the query embedded by `embedder` each time.
    /// Stored vectors are random unit vectors under the embedder's model id: embedding 100K
    /// texts first would take minutes and change no timing.
    public func endToEnd(embedder: any Embedder, spread: Spread, log: (String) -> Void) async throws
        -> (load: Double, recall: StoreBenchmark.Percentiles, peakRSS: Int64)
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = SplitMix64(seed: 11)
        let owners = spread.owners
        let file = directory.appendingPathComponent("bench.jsonl")
        log("writing \(ProgressLine.grouped(records)) records (resident now: \(ByteCount.format(StoreBenchmark.currentRSS())))")
        try StoreBenchmark(records: records).writeCorpus(to: file, owners: owners, rng: &rng)
        let store = try SQLiteStore(path: directory.appendingPathComponent("memory.sqlite").path)
        let clock = SystemClock()
        _ = try await MemoryImporter(store: store, context: MemoryLine.Context(knownOwners: Set(owners), now: clock.now())).run(file: file)
        log("storing \(ProgressLine.grouped(records)) vectors (resident now: \(ByteCount.format(StoreBenchmark.currentRSS())))")
        var after: IndexEntry?
        var seed: UInt64 = 100
        while true {
            let page = try await store.indexEntries(owners: owners, slices: nil, model: nil, after: after, limit: 5000)
            guard let last = page.last else { break }
            let vectors = RandomVectors.unitVectors(page.count, dimension: embedder.dimension, seed: seed)
            seed += 1
            _ = try await store.storeVectors(zip(page, vectors).map {
                RecordVector(id: $0.id, version: $0.version, model: embedder.modelID, values: $1)
            })
            after = last
        }
        let index = RecallIndex(source: store, model: embedder.modelID, dimension: embedder.dimension)
        let recaller = Recaller(store: store, index: index, embedder: embedder, weights: weights, clock: clock, options: options)
        log("loading the index and timing \(recalls) recalls (resident now: \(ByteCount.format(StoreBenchmark.currentRSS())))")
        let loadStart = DispatchTime.now()
        _ = try await recaller.recall(RecallRequest(query: "warm up", owners: spread.readable, limit: 10))
        let load = StoreBenchmark.seconds(since: loadStart)
        log("index loaded in \(String(format: "%.2f", load)) s (resident now: \(ByteCount.format(StoreBenchmark.currentRSS())), peak so far \(ByteCount.format(StoreBenchmark.peakRSS())))")
        var times: [Double] = []
        for _ in 0..<recalls {
            let request = RecallRequest(query: StoreBenchmark.sentence(&rng, words: 6), owners: spread.readable, limit: 10)
            let start = DispatchTime.now()
            _ = try await recaller.recall(request)
            times.append(StoreBenchmark.seconds(since: start))
        }
        // Where the time goes: the same kind of queries through each stage alone.
        var embedTimes: [Double] = [], lexicalTimes: [Double] = [], denseTimes: [Double] = []
        // What the recall options cost: one hybrid search without and with the conversation
        // neighbours, and ranking with plain options and with the configured ones.
        var hybridTimes: [Double] = [], contextTimes: [Double] = [], plainRankTimes: [Double] = [], rankTimes: [Double] = []
        var counts = (plain: 0, context: 0)
        let plainRecaller = Recaller(store: store, index: index, embedder: embedder, weights: weights, clock: clock)
        for _ in 0..<min(recalls, 300) {
            let text = StoreBenchmark.sentence(&rng, words: 6)
            var start = DispatchTime.now()
            let vector = try embedder.embed([text])[0]
            embedTimes.append(StoreBenchmark.seconds(since: start))
            start = DispatchTime.now()
            _ = try await index.search([IndexQuery(terms: LexicalTokenizer.tokens(text), vector: nil, owners: spread.readable, slices: nil, candidates: 100)])
            lexicalTimes.append(StoreBenchmark.seconds(since: start))
            start = DispatchTime.now()
            _ = try await index.search([IndexQuery(terms: [], vector: vector, owners: spread.readable, slices: nil, candidates: 100)])
            denseTimes.append(StoreBenchmark.seconds(since: start))
            var query = IndexQuery(terms: LexicalTokenizer.tokens(text), vector: vector, owners: spread.readable, slices: nil, candidates: 100)
            start = DispatchTime.now()
            let plain = try await index.search([query])[0]
            hybridTimes.append(StoreBenchmark.seconds(since: start))
            query.contextWindow = options.context?.window ?? 0
            query.contextGap = options.context?.gap ?? 0
            query.contextFrom = 20
            start = DispatchTime.now()
            let widened = try await index.search([query])[0]
            contextTimes.append(StoreBenchmark.seconds(since: start))
            counts.plain += plain.count
            counts.context += widened.count
            start = DispatchTime.now()
            _ = plainRecaller.rank(plain, limit: 10, now: clock.now(), semantic: true, query: text)
            plainRankTimes.append(StoreBenchmark.seconds(since: start))
            start = DispatchTime.now()
            _ = recaller.rank(widened, limit: 10, now: clock.now(), semantic: true, query: text)
            rankTimes.append(StoreBenchmark.seconds(since: start))
        }
        func ms(_ t: [Double]) -> String { String(format: "%.2f/%.2f", StoreBenchmark.Percentiles(t).p50 * 1000, StoreBenchmark.Percentiles(t).p99 * 1000) }
        let n = Double(min(recalls, 300))
        log("options, p50/p99 ms: hybrid search \(ms(hybridTimes)), with context \(ms(contextTimes)) (candidates \(Int(Double(counts.plain) / n)) → "
            + "\(Int(Double(counts.context) / n))); ranking, plain \(ms(plainRankTimes)), with the options \(ms(rankTimes))")
        log(String(format: "stages, p50/p99 ms: query embedding %.2f/%.2f, lexical search %.2f/%.2f, dense search %.2f/%.2f",
                   StoreBenchmark.Percentiles(embedTimes).p50 * 1000, StoreBenchmark.Percentiles(embedTimes).p99 * 1000,
                   StoreBenchmark.Percentiles(lexicalTimes).p50 * 1000, StoreBenchmark.Percentiles(lexicalTimes).p99 * 1000,
                   StoreBenchmark.Percentiles(denseTimes).p50 * 1000, StoreBenchmark.Percentiles(denseTimes).p99 * 1000))
        return (load, StoreBenchmark.Percentiles(times), StoreBenchmark.peakRSS())
    }
}
