import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

@Suite("Hybrid ranking")
struct RecallerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func hit(_ id: String, bm25: Double, age: Double, importance: Double) -> LexicalHit {
        LexicalHit(record: MemoryRecord(id: id, owner: "athena", slice: .semantic, content: id, importance: importance, source: "t",
                                        createdAt: now.addingTimeInterval(-age)), bm25: bm25)
    }

    @Test func weightsAreRenormalisedWithoutSemanticAndComponentsAddUp() {
        let recaller = Recaller(store: InMemoryStore(), weights: RecallWeights(semantic: 0.5, lexical: 0.3, recency: 0.1, importance: 0.1, recencyHalfLife: 100), clock: ManualClock(now))
        let ranked = recaller.rank([hit("a", bm25: 4, age: 100, importance: 0.5), hit("b", bm25: 2, age: 0, importance: 1)], limit: 10, now: now)
        let a = ranked.first { $0.record.id == "a" }!
        #expect(abs(a.components.reduce(0) { $0 + $1.weight } - 1) < 1e-9)
        #expect(abs(a.components.first { $0.name == "lexical" }!.weight - 0.6) < 1e-9)
        #expect(abs(a.components.first { $0.name == "recency" }!.value - 0.5) < 1e-9)
        #expect(abs(a.score - a.components.reduce(0) { $0 + $1.contribution }) < 1e-12)
        #expect(ranked.map(\.record.id) == ["a", "b"])
    }

    @Test func recencyAndImportanceBreakLexicalTies() {
        let recaller = Recaller(store: InMemoryStore(), weights: RecallWeights(recencyHalfLife: 3600), clock: ManualClock(now))
        let ranked = recaller.rank([
            hit("old", bm25: 3, age: 86_400, importance: 0.5), hit("new", bm25: 3, age: 0, importance: 0.5),
            hit("vital", bm25: 3, age: 86_400, importance: 1),
        ], limit: 2, now: now)
        #expect(ranked.map(\.record.id) == ["new", "vital"])
    }

    @Test func recallSearchesOnlyTheRequestedOwnersAndMarksUse() async throws {
        let store = InMemoryStore()
        let clock = ManualClock(now)
        try await store.put(MemoryRecord(id: "mine", owner: "athena", slice: .semantic, content: "the deploy freeze starts friday", source: "t", createdAt: now))
        try await store.put(MemoryRecord(id: "theirs", owner: "artemis", slice: .semantic, content: "deploy freeze friday", source: "t", createdAt: now))
        let hits = try await Recaller(store: store, weights: RecallWeights(), clock: clock).recall(RecallRequest(query: "deploy freeze", owners: ["athena"]))
        #expect(hits.map(\.record.id) == ["mine"])
        #expect(try await store.get("mine")?.accessCount == 1)
        #expect(try await store.get("theirs")?.accessCount == 0)
    }
}
