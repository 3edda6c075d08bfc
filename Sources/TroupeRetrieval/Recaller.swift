import Foundation
import TroupeCore
import TroupeStore

/// How much each component counts in a recall score. Components a recall cannot compute (no
/// vectors yet, say) are dropped and the remaining weights rescaled to sum to one.
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

/// What to recall: a query over some owners' slices.
public struct RecallRequest: Sendable, Hashable {
    public var query: String
    /// The persona and the shared slices it may read.
    public var owners: [PersonaID]
    /// `nil` for every slice.
    public var slices: [SliceKind]?
    public var limit: Int

    public init(query: String, owners: [PersonaID], slices: [SliceKind]? = nil, limit: Int = 10) {
        self.query = query
        self.owners = owners
        self.slices = slices
        self.limit = limit
    }
}

/// One part of a score, as `--why` shows it.
public struct ScoreComponent: Sendable, Hashable {
    /// `lexical`, `recency`, `importance` (and `semantic` once vectors exist).
    public var name: String
    /// The value before normalisation (BM25, age in seconds, importance).
    public var raw: Double
    /// The value in 0…1 that is weighted.
    public var value: Double
    /// The effective weight after rescaling.
    public var weight: Double

    public var contribution: Double { value * weight }
}

/// A recalled memory, its score and how the score was made.
public struct RecallHit: Sendable, Hashable {
    public var record: MemoryRecord
    public var score: Double
    public var components: [ScoreComponent]
}

/// Hybrid recall: full-text candidates, ranked by a weighted sum of normalised BM25, recency and
/// importance (see DESIGN.md, Retrieval).
public struct Recaller: Sendable {
    let store: any MemoryStore
    let weights: RecallWeights
    let clock: any WallClock
    /// Full-text candidates considered per query.
    let candidates: Int

    public init(store: any MemoryStore, weights: RecallWeights, clock: any WallClock, candidates: Int = 100) {
        self.store = store
        self.weights = weights
        self.clock = clock
        self.candidates = candidates
    }

    /// Recalls for one request; marks the returned records as used.
    public func recall(_ request: RecallRequest) async throws -> [RecallHit] {
        try await recall(batch: [request])[0]
    }

    /// Recalls for several requests; one answer per request, in order.
    public func recall(batch requests: [RecallRequest]) async throws -> [[RecallHit]] {
        let now = clock.now()
        var answers: [[RecallHit]] = []
        for request in requests {
            let filter = MemoryQuery(owners: request.owners, slices: request.slices)
            let hits = try await store.search(request.query, in: filter, limit: max(candidates, request.limit))
            answers.append(rank(hits, limit: request.limit, now: now))
        }
        let used = Set(answers.flatMap { $0.map(\.record.id) })
        try await store.touch(used.sorted(), at: now)
        return answers
    }

    /// Scores lexical hits and keeps the best `limit`; exposed for tests.
    public func rank(_ hits: [LexicalHit], limit: Int, now: Date) -> [RecallHit] {
        let total = weights.lexical + weights.recency + weights.importance
        let scale = total > 0 ? 1 / total : 0
        let best = hits.map(\.bm25).max() ?? 0
        let ranked = hits.map { hit -> RecallHit in
            let age = max(0, now.timeIntervalSince(hit.record.createdAt))
            let components = [
                ScoreComponent(name: "lexical", raw: hit.bm25, value: best > 0 ? hit.bm25 / best : 0, weight: weights.lexical * scale),
                ScoreComponent(name: "recency", raw: age, value: pow(0.5, age / weights.recencyHalfLife), weight: weights.recency * scale),
                ScoreComponent(name: "importance", raw: hit.record.importance, value: hit.record.importance, weight: weights.importance * scale),
            ]
            return RecallHit(record: hit.record, score: components.reduce(0) { $0 + $1.contribution }, components: components)
        }
        return Array(ranked.sorted { ($0.score, $1.record.id) > ($1.score, $0.record.id) }.prefix(limit))
    }
}
