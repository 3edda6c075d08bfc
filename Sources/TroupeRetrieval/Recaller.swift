import Foundation
import TroupeCore
import TroupeStore

/// How much each component counts in a recall score. Components a recall cannot compute (no
/// embedder, say) are dropped and the remaining weights rescaled to sum to one.
public struct RecallWeights: Sendable, Hashable {
    public var semantic: Double
    public var lexical: Double
    public var recency: Double
    public var importance: Double
    /// Age at which recency is worth 0.5.
    public var recencyHalfLife: Double

    public init(semantic: Double = 0.5, lexical: Double = 0.3, recency: Double = 0.1, importance: Double = 0.1, recencyHalfLife: Double = 7 * 86_400) {
        self.semantic = semantic
        self.lexical = lexical
        self.recency = recency
        self.importance = importance
        self.recencyHalfLife = recencyHalfLife
    }
}

/// How the components become one score.
public enum RecallFusion: String, Sendable, CaseIterable {
    /// A weighted sum of components in 0…1 (BM25 as a share of the query's highest possible score).
    case weighted
    /// Reciprocal-rank fusion: each component ranks the candidates, and a candidate scores the
    /// weighted sum of 1 / (60 + rank).
    case reciprocalRank = "rrf"
}

/// What to recall: a query over some owners' slices.
public struct RecallRequest: Sendable, Hashable {
    public var query: String
    /// The persona and the shared slices it may read.
    public var owners: [PersonaID]
    /// `nil` for every slice.
    public var slices: [SliceKind]?
    public var limit: Int
    /// Only records carrying this tag.
    public var tag: String?

    public init(query: String, owners: [PersonaID], slices: [SliceKind]? = nil, limit: Int = 10, tag: String? = nil) {
        self.query = query
        self.owners = owners
        self.slices = slices
        self.limit = limit
        self.tag = tag
    }
}

/// One part of a score, as `--why` shows it.
public struct ScoreComponent: Sendable, Hashable {
    /// `semantic`, `lexical`, `recency`, `importance`, and with their options on, `context`,
    /// `date`, `trust` and `superseded`.
    public var name: String
    /// The value before normalisation (cosine, BM25, age in seconds, importance, the neighbour's
    /// relevance, seconds from the named date, the trust rank, the superseded version repeated),
    /// or the place under reciprocal-rank fusion.
    public var raw: Double
    /// The value that is weighted.
    public var value: Double
    /// The effective weight after rescaling.
    public var weight: Double
    /// The record the value comes from, when it is another's (the neighbour, for `context`).
    public var source: String?
    /// For `semantic` and `lexical` under a ``SignalBalance``: the dense ranking's spread, which
    /// split their weights for this query.
    public var spread: Double?
    /// What `raw` was divided by to make `value`, when it was: the best candidate's cosine (the
    /// `best` scale), the BM25 of a full match or the query's ceiling.
    public var reference: Double?
    /// Under reciprocal-rank fusion, the candidate's place in this component's ranking (`raw`
    /// holds the same); `nil` when it was not ranked or the fusion is a weighted sum.
    public var place: Int?

    public var contribution: Double { value * weight }

    public init(
        name: String, raw: Double, value: Double, weight: Double, source: String? = nil, spread: Double? = nil, reference: Double? = nil,
        place: Int? = nil
    ) {
        self.reference = reference
        self.place = place
        self.name = name
        self.raw = raw
        self.value = value
        self.weight = weight
        self.source = source
        self.spread = spread
    }
}

/// A recalled memory, its score and how the score was made.
public struct RecallHit: Sendable, Hashable {
    public var record: MemoryRecord
    public var score: Double
    public var components: [ScoreComponent]

    public init(record: MemoryRecord, score: Double, components: [ScoreComponent]) {
        self.record = record
        self.score = score
        self.components = components
    }
}

/// Hybrid recall (see DESIGN.md, Retrieval): candidates from BM25 and from dense vectors (and
/// their conversation neighbours), ranked by cosine, BM25, recency and importance fused as
/// configured, plus the context and date components that ``RecallOptions`` turns on.
public struct Recaller: Sendable {
    let store: any RecordStore
    let index: RecallIndex
    let embedding: EmbeddingQueue?
    let weights: RecallWeights
    let fusion: RecallFusion
    let clock: any WallClock
    /// Candidates each ranking contributes per query.
    let candidates: Int
    let options: RecallOptions

    public init(
        store: any RecordStore, index: RecallIndex, embedder: (any Embedder)?, weights: RecallWeights,
        fusion: RecallFusion = .weighted, clock: any WallClock, candidates: Int = 100, options: RecallOptions = RecallOptions()
    ) {
        self.init(
            store: store, index: index, embedding: embedder.map { EmbeddingQueue($0) }, weights: weights, fusion: fusion, clock: clock,
            candidates: candidates, options: options)
    }

    /// A recaller that embeds its queries on `embedding` (shared with the writers that embed).
    public init(
        store: any RecordStore, index: RecallIndex, embedding: EmbeddingQueue?, weights: RecallWeights,
        fusion: RecallFusion = .weighted, clock: any WallClock, candidates: Int = 100, options: RecallOptions = RecallOptions()
    ) {
        self.options = options
        self.store = store
        self.index = index
        self.embedding = embedding
        self.weights = weights
        self.fusion = fusion
        self.clock = clock
        self.candidates = candidates
    }

    /// Recalls for one request; marks the returned records as used.
    public func recall(_ request: RecallRequest) async throws -> [RecallHit] {
        try await recall(batch: [request])[0]
    }

    /// Recalls for several requests at once: the queries are embedded together and each
    /// partition is scored once for all of them. One answer per request, in order.
    public func recall(batch requests: [RecallRequest]) async throws -> [[RecallHit]] {
        guard !requests.isEmpty else { return [] }
        // Ranking every candidate is CPU work: on the recall index's thread, off the pool.
        return try await withTaskExecutorPreference(RecallIndex.executor) { try await ranked(requests) }
    }

    private func ranked(_ requests: [RecallRequest]) async throws -> [[RecallHit]] {
        let now = clock.now()
        let vectors = try await embedding?.embed(requests.map(\.query))
        let queries = requests.enumerated().map { i, request in
            var query = IndexQuery(
                terms: Self.terms(request.query, droppingStopwords: options.dropStopwords), vector: vectors?[i], owners: request.owners,
                slices: request.slices, tag: request.tag, candidates: max(candidates, request.limit), now: now)
            // The archive is recalled only when asked for by its tag.
            if request.tag != MemoryRecord.archivedTag { query.excludedTag = MemoryRecord.archivedTag }
            if let context = options.context, context.weight > 0 {
                query.contextWindow = context.window
                query.contextGap = context.gap
                query.contextFrom = max(20, request.limit)
            }
            return query
        }
        let found = try await index.search(queries)
        // Trust and superseded values are read from the records: rank a pool, weigh it, keep `limit`.
        let weighs = options.trust != nil || options.discountsSuperseded
        let ranked = zip(requests, found).map { request, candidates in
            rank(candidates, limit: weighs ? Self.pool(request.limit) : request.limit, now: now, semantic: vectors != nil, query: request.query)
        }
        let read = ranked.flatMap { $0.map(\.candidate.id) }
        let records = Dictionary(uniqueKeysWithValues: try await store.records(ids: Array(Set(read)).sorted()).map { ($0.id, $0) })
        // A record forgotten since the index saw it is left out.
        var hits = ranked.map { hits in
            hits.compactMap { hit in
                records[hit.candidate.id].map { RecallHit(record: $0, score: hit.score, components: hit.components) }
            }
        }
        if weighs {
            for i in hits.indices { hits[i] = try await weighed(hits[i], limit: requests[i].limit) }
        }
        // One use per request that returned a record, however the requests were batched.
        try await store.touch(hits.flatMap { $0.map(\.record.id) }.sorted(), at: now)
        return hits
    }

    /// The query's distinct lexical terms (at most 32), in order; without function words when
    /// `droppingStopwords` (unless nothing else is left).
    static func terms(_ query: String, droppingStopwords: Bool = false) -> [String] {
        var seen = Set<String>()
        let tokens = droppingStopwords ? QueryStopwords.contentTokens(query) : LexicalTokenizer.tokens(query)
        return Array(tokens.filter { seen.insert($0).inserted }.prefix(32))
    }
}
