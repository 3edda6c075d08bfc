import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeSQLite
import TroupeStore
import TroupeRuntime

/// `troupe bench quality`: recall@5 and recall@10 of lexical-only, dense-only and hybrid
/// rankings (weighted sum and reciprocal-rank fusion) on a hand-written set of persona memories
/// and questions with known answers. Prints figures; asserts nothing.
public struct QualityBenchmark: Sendable {
    public struct Question: Decodable, Sendable {
        public var id: String
        public var persona: String
        public var question: String
        public var relevant: [String]
        public var kind: String
    }

    /// One ranking to evaluate.
    public struct Variant: Sendable {
        public var name: String
        public var weights: RecallWeights
        public var fusion: RecallFusion
        public var semantic: Bool
        public var options = RecallOptions()
    }

    public struct Row: Sendable {
        public var variant: String
        public var kind: String
        public var questions: Int
        public var recallAt5: Double
        public var recallAt10: Double
        public var mrr: Double
    }

    let memories: URL
    let questions: URL
    let embedder: (any Embedder)?
    /// The owners a persona may read (itself and its shared slices).
    let readable: @Sendable (String) -> [PersonaID]
    let knownOwners: Set<PersonaID>
    /// "Now" for recency: the day after the set's last memory, so runs are reproducible.
    let now: Date

    public init(
        memories: URL, questions: URL, embedder: (any Embedder)?, knownOwners: Set<PersonaID>,
        now: Date = Date(timeIntervalSince1970: 1_793_491_200), readable: @escaping @Sendable (String) -> [PersonaID]
    ) {
        self.memories = memories
        self.questions = questions
        self.embedder = embedder
        self.knownOwners = knownOwners
        self.now = now
        self.readable = readable
    }

    /// The rankings compared: the default weights fused both ways with the configured `options`
    /// (scales, stopwords, context, dates, balance) and once with a fixed semantic/lexical split,
    /// each signal alone, and the plain weighted sum with the weights it had before those options.
    public static func variants(defaults w: RecallWeights, options: RecallOptions = RecallOptions()) -> [Variant] {
        let bare = RecallWeights(semantic: w.semantic, lexical: w.lexical, recency: 0, importance: 0)
        var fixedSplit = options
        fixedSplit.balance = nil
        return [
            Variant(name: "lexical only (BM25)", weights: RecallWeights(semantic: 0, lexical: 1, recency: 0, importance: 0), fusion: .weighted, semantic: false),
            Variant(name: "dense only (cosine)", weights: RecallWeights(semantic: 1, lexical: 0, recency: 0, importance: 0), fusion: .weighted, semantic: true),
            Variant(name: "hybrid, weighted sum", weights: w, fusion: .weighted, semantic: true, options: options),
            Variant(name: "hybrid, RRF", weights: w, fusion: .reciprocalRank, semantic: true, options: options),
            Variant(name: "hybrid, weighted, fixed split", weights: w, fusion: .weighted, semantic: true, options: fixedSplit),
            Variant(name: "hybrid, weighted, no recency/importance", weights: bare, fusion: .weighted, semantic: true, options: options),
            Variant(name: "hybrid, RRF, no recency/importance", weights: bare, fusion: .reciprocalRank, semantic: true, options: options),
            // A fixed point of comparison: the defaults before the scales, stopwords, context and dates.
            Variant(name: "plain weighted sum (0.5/0.3/0.1/0.1)", weights: RecallWeights(), fusion: .weighted, semantic: true),
        ]
    }

    /// Recall figures of each variant; `placed` hears, for every variant and question, the rank
    /// (1-based) of the question's first answer in the top 10, `nil` when none made it.
    public func run(
        variants: [Variant], log: (String) -> Void, placed: (_ variant: String, _ question: Question, _ rank: Int?) -> Void = { _, _, _ in }
    ) async throws -> [Row] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-quality-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("memory.sqlite").path)
        let report = try await MemoryImporter(store: store, context: MemoryLine.Context(knownOwners: knownOwners, now: now)).run(file: memories)
        guard report.outcome == .imported, report.invalid == 0 else {
            throw TroupeError(.invalidInput, "the quality set has \(report.invalid) invalid memories", context: memories.path)
        }
        if let embedder {
            log("embedding \(report.valid) memories with \(embedder.modelID)")
            try await VectorBackfill(store: store, embedder: embedder).run()
        }
        let questions = try Self.readQuestions(questions)
        let index = RecallIndex(source: store, model: embedder?.modelID, dimension: embedder?.dimension ?? 384)
        var rows: [Row] = []
        for variant in variants where embedder != nil || !variant.semantic {
            let recaller = Recaller(
                store: store, index: index, embedder: variant.semantic ? embedder : nil, weights: variant.weights,
                fusion: variant.fusion, clock: ManualClock(now), options: variant.options)
            let requests = questions.map { RecallRequest(query: $0.question, owners: readable($0.persona), limit: 10) }
            let answers = try await recaller.recall(batch: requests)
            let ranked = answers.map { $0.map(\.record.id) }
            for (question, ids) in zip(questions, ranked) {
                placed(variant.name, question, ids.firstIndex(where: Set(question.relevant).contains).map { $0 + 1 })
            }
            for kind in ["all"] + Array(Set(questions.map(\.kind))).sorted() {
                let picked = questions.indices.filter { kind == "all" || questions[$0].kind == kind }
                func recall(at k: Int) -> Double {
                    picked.reduce(0.0) { total, i in
                        let relevant = Set(questions[i].relevant)
                        return total + Double(Set(ranked[i].prefix(k)).intersection(relevant).count) / Double(relevant.count)
                    } / Double(max(picked.count, 1))
                }
                let mrr = picked.reduce(0.0) { total, i in
                    let relevant = Set(questions[i].relevant)
                    return total + (ranked[i].firstIndex(where: relevant.contains).map { 1 / Double($0 + 1) } ?? 0)
                } / Double(max(picked.count, 1))
                rows.append(Row(variant: variant.name, kind: kind, questions: picked.count, recallAt5: recall(at: 5), recallAt10: recall(at: 10), mrr: mrr))
            }
        }
        return rows
    }

    static func readQuestions(_ url: URL) throws -> [Question] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { number, line in
            do { return try JSONDecoder().decode(Question.self, from: Data(line.utf8)) } catch {
                throw TroupeError(.invalidInput, "line \(number + 1) is not a question", context: url.path, cause: error)
            }
        }
    }

    /// A table of the rows, one block per question kind.
    public static func table(_ rows: [Row], model: String?) -> String {
        var out = "retrieval quality (\(model ?? "no embedder"); recall@k = share of each question's answers in the top k, averaged)\n"
        for kind in Array(Set(rows.map(\.kind))).sorted(by: { ($0 == "all" ? "" : $0) < ($1 == "all" ? "" : $1) }) {
            let block = rows.filter { $0.kind == kind }
            out += "\n  \(kind) questions (n=\(block.first?.questions ?? 0))\n"
            out += "    " + "ranking".padding(toLength: 42, withPad: " ", startingAt: 0) + "recall@5  recall@10  MRR\n"
            for row in block {
                out += "    " + row.variant.padding(toLength: 42, withPad: " ", startingAt: 0)
                    + String(format: "%7.3f   %7.3f   %5.3f\n", row.recallAt5, row.recallAt10, row.mrr)
            }
        }
        return out
    }
}
