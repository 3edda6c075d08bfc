import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

@Suite("Hybrid ranking")
struct RecallerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func candidate(_ id: String, bm25: Double, cosine: Double? = nil, age: Double, importance: Double) -> IndexCandidate {
        IndexCandidate(
            id: id, owner: "athena", slice: .semantic, bm25: bm25, bm25Ceiling: 8, cosine: cosine, createdAt: now.addingTimeInterval(-age),
            importance: importance)
    }

    func recaller(_ weights: RecallWeights, fusion: RecallFusion = .weighted) -> Recaller {
        let store = InMemoryStore()
        return Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: weights,
            fusion: fusion, clock: ManualClock(now))
    }

    @Test func weightsAreRenormalisedWithoutSemanticAndComponentsAddUp() {
        let r = recaller(RecallWeights(semantic: 0.5, lexical: 0.3, recency: 0.1, importance: 0.1, recencyHalfLife: 100))
        let ranked = r.rank(
            [candidate("a", bm25: 4, age: 100, importance: 0.5), candidate("b", bm25: 2, age: 0, importance: 1)],
            limit: 10, now: now, semantic: false)
        let a = ranked.first { $0.candidate.id == "a" }!
        #expect(abs(a.components.reduce(0) { $0 + $1.weight } - 1) < 1e-9)
        #expect(a.components.map(\.name) == ["lexical", "recency", "importance"])
        #expect(abs(a.components.first { $0.name == "lexical" }!.weight - 0.6) < 1e-9)
        #expect(abs(a.components.first { $0.name == "recency" }!.value - 0.5) < 1e-9)
        // BM25 counts as its share of the query's ceiling (8 here), not of the best candidate.
        #expect(abs(a.components.first { $0.name == "lexical" }!.value - 0.5) < 1e-9)
        #expect(abs(a.score - a.components.reduce(0) { $0 + $1.contribution }) < 1e-12)
        // a: 0.5·0.6 + 0.5·0.2 + 0.5·0.2 = 0.5; b: 0.25·0.6 + 1·0.2 + 1·0.2 = 0.55.
        #expect(abs(a.score - 0.5) < 1e-9)
        #expect(ranked.map(\.candidate.id) == ["b", "a"])
    }

    @Test func semanticCountsWhenVectorsExist() {
        let r = recaller(RecallWeights(semantic: 0.5, lexical: 0.3, recency: 0.1, importance: 0.1))
        let ranked = r.rank(
            [candidate("words", bm25: 5, cosine: 0.1, age: 0, importance: 0.5), candidate("meaning", bm25: 0, cosine: 0.9, age: 0, importance: 0.5)],
            limit: 10, now: now, semantic: true)
        #expect(ranked.map(\.candidate.id) == ["meaning", "words"])
        #expect(ranked[0].components.first { $0.name == "semantic" }?.weight == 0.5)
    }

    @Test func recencyAndImportanceBreakLexicalTies() {
        let r = recaller(RecallWeights(recencyHalfLife: 3600))
        let ranked = r.rank([
            candidate("old", bm25: 3, age: 86_400, importance: 0.5), candidate("new", bm25: 3, age: 0, importance: 0.5),
            candidate("vital", bm25: 3, age: 86_400, importance: 1),
        ], limit: 2, now: now, semantic: false)
        #expect(ranked.map(\.candidate.id) == ["new", "vital"])
    }

    @Test func reciprocalRankFusionRanksByPlacesNotScales() {
        let r = recaller(RecallWeights(semantic: 0.5, lexical: 0.5, recency: 0, importance: 0), fusion: .reciprocalRank)
        // "both" is second on each list; "lex" first on one list and absent from the other.
        let ranked = r.rank([
            candidate("lex", bm25: 100, cosine: nil, age: 0, importance: 0),
            candidate("both", bm25: 1, cosine: 0.5, age: 0, importance: 0),
            candidate("dense", bm25: 0, cosine: 0.9, age: 0, importance: 0),
        ], limit: 3, now: now, semantic: true)
        #expect(ranked.map(\.candidate.id) == ["both", "dense", "lex"] || ranked.map(\.candidate.id) == ["both", "lex", "dense"])
        #expect(ranked[0].components.first { $0.name == "lexical" }?.raw == 2)
    }

    @Test func recallSearchesOnlyTheRequestedOwnersAndMarksUse() async throws {
        let store = InMemoryStore()
        try await store.put(MemoryRecord(id: "mine", owner: "athena", slice: .semantic, content: "the deploy freeze starts friday", source: "t", createdAt: now))
        try await store.put(MemoryRecord(id: "theirs", owner: "artemis", slice: .semantic, content: "deploy freeze friday", source: "t", createdAt: now))
        let r = Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: RecallWeights(),
            clock: ManualClock(now))
        let hits = try await r.recall(RecallRequest(query: "deploy freeze", owners: ["athena"]))
        #expect(hits.map(\.record.id) == ["mine"])
        #expect(await store.get("mine")?.accessCount == 1)
        #expect(await store.get("theirs")?.accessCount == 0)
    }
}

@Suite("Recall batcher")
struct RecallBatcherTests {
    @Test func requestsArrivingTogetherAreAnsweredAsOneBatch() async throws {
        let store = InMemoryStore()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let personas: [PersonaID] = ["athena", "artemis", "hestia", "bellona", "seshat", "p6", "p7", "p8"]
        for (i, p) in personas.enumerated() {
            try await store.put(MemoryRecord(id: "m\(i)", owner: p, slice: .semantic, content: "note \(i) about deploys", source: "t", createdAt: now))
        }
        let recaller = Recaller(
            store: store, index: RecallIndex(source: store, model: "hashing-384-v1", dimension: 384), embedder: HashingEmbedder(),
            weights: RecallWeights(), clock: ManualClock(now))
        // A full batch is answered at once; the long window means only the count can flush it, so
        // the test does not depend on how fast this machine starts eight tasks.
        let batcher = RecallBatcher(recaller: recaller, window: .seconds(60), maxBatch: 8)
        let answers = try await withThrowingTaskGroup(of: (Int, [RecallHit]).self) { group in
            for (i, p) in personas.enumerated() {
                group.addTask { (i, try await batcher.recall(RecallRequest(query: "deploys", owners: [p]))) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        // Each persona gets its own answer, from its own slice only.
        for (i, p) in personas.enumerated() { #expect(answers[i]?.map(\.record.owner) == [p]) }
        #expect(await batcher.requests == 8)
        #expect(await batcher.batches == 1)
    }
}
