import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

@Suite("Recall options: scales, stopwords, context and dates in ranking")
struct RecallOptionsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func candidate(_ id: String, bm25: Double = 0, ceiling: Double = 8.8, cosine: Double? = nil, at created: Date? = nil, neighbours: [String] = []) -> IndexCandidate {
        var c = IndexCandidate(
            id: id, owner: "athena", slice: .episodic, bm25: bm25, bm25Ceiling: ceiling, cosine: cosine, createdAt: created ?? now, importance: 0.5)
        c.neighbours = neighbours
        return c
    }

    func recaller(_ options: RecallOptions, weights: RecallWeights = RecallWeights(semantic: 0.5, lexical: 0.5, recency: 0, importance: 0)) -> Recaller {
        let store = InMemoryStore()
        return Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: weights, clock: ManualClock(now),
            options: options)
    }

    func value(_ r: Recaller.Ranked, _ name: String) -> Double? { r.components.first { $0.name == name }?.value }

    @Test func fullMatchScaleCountsEveryWordOnceAsOne() {
        // Ceiling 8.8 = Σ idf × (k1 + 1) with Σ idf = 4: a record scoring 4 holds every word once.
        let plain = recaller(RecallOptions()).rank([candidate("a", bm25: 4), candidate("b", bm25: 2)], limit: 2, now: now, semantic: false)
        let full = recaller(RecallOptions(lexicalScale: .fullMatch)).rank([candidate("a", bm25: 4), candidate("b", bm25: 2), candidate("c", bm25: 6)], limit: 3, now: now, semantic: false)
        #expect(abs(value(plain[0], "lexical")! - 4 / 8.8) < 1e-9)
        #expect(zip(full.map { value($0, "lexical")! }, [1, 1, 0.5]).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(full.first { $0.candidate.id == "c" }!.components[0].raw == 6)
    }

    @Test func bestScaleDividesByTheBestCandidatesCosine() {
        let ranked = recaller(RecallOptions(semanticScale: .best)).rank(
            [candidate("a", cosine: 0.4), candidate("b", cosine: 0.2), candidate("c", cosine: -0.1)], limit: 3, now: now, semantic: true)
        #expect(ranked.map { value($0, "semantic")! } == [1, 0.5, 0])
        #expect(ranked[0].components.first { $0.name == "semantic" }!.raw == 0.4)
        let raw = recaller(RecallOptions()).rank([candidate("a", cosine: 0.4)], limit: 1, now: now, semantic: true)
        #expect(value(raw[0], "semantic") == 0.4)
    }

    @Test func stopwordsLeaveTheQueryButNeverAllOfIt() {
        #expect(QueryStopwords.contentTokens("When did Caroline go to the LGBTQ support group?") == ["carolin", "go", "lgbtq", "support", "group"])
        #expect(QueryStopwords.contentTokens("Why didn't she call?") == ["call"])
        #expect(QueryStopwords.contentTokens("what is it") == ["what", "is", "it"])
    }

    @Test func stopwordsKeepFunctionWordMatchesOutOfTheLexicalRanking() async throws {
        let store = InMemoryStore()
        try await store.put(MemoryRecord(id: "filler", owner: "athena", slice: .episodic, content: "when did you do that to them", source: "t", createdAt: now))
        try await store.put(MemoryRecord(id: "answer", owner: "athena", slice: .episodic, content: "the pottery class started", source: "t", createdAt: now))
        for options in [RecallOptions(), RecallOptions(dropStopwords: true)] {
            let r = Recaller(store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: RecallWeights(), clock: ManualClock(now), options: options)
            let ids = try await r.recall(RecallRequest(query: "when did the pottery class start?", owners: ["athena"])).map(\.record.id)
            #expect(ids == (options.dropStopwords ? ["answer"] : ["answer", "filler"]))
        }
    }

    @Test func contextAddsTheBestNeighboursRelevanceAndNamesIt() {
        let r = recaller(RecallOptions(context: ConversationContext(weight: 0.5)))
        let ranked = r.rank([
            candidate("question", cosine: 0.8, neighbours: ["answer"]),
            candidate("answer", cosine: 0.1, neighbours: ["question", "aside"]),
            candidate("aside", cosine: 0.2, neighbours: ["answer"]),
            candidate("elsewhere", cosine: 0.3),
        ], limit: 4, now: now, semantic: true)
        let answer = ranked.first { $0.candidate.id == "answer" }!
        let context = answer.components.first { $0.name == "context" }!
        // Semantic weight 0.5: the question's relevance is 0.4, so the answer gains 0.5 × 0.4.
        #expect(context.source == "question" && abs(context.value - 0.4) < 1e-9 && context.weight == 0.5)
        #expect(abs(answer.score - (0.05 + 0.2)) < 1e-9)
        #expect(ranked.map(\.candidate.id) == ["question", "answer", "elsewhere", "aside"])
        // A memory with no neighbour has no context component at all.
        let alone = ranked.first { $0.candidate.id == "elsewhere" }!
        #expect(alone.components.map(\.name) == ["semantic", "lexical", "recency", "importance"])
        // Off, there is no such component and the answer stays last but one.
        let plain = recaller(RecallOptions()).rank([candidate("answer", cosine: 0.1, neighbours: ["question"]), candidate("question", cosine: 0.8)], limit: 2, now: now, semantic: true)
        #expect(plain.allSatisfy { value($0, "context") == nil })
    }

    @Test func datesFavourMemoriesMadeWhenTheQueryNames() {
        let day: TimeInterval = 86_400
        let named = Date(timeIntervalSince1970: 1_799_712_000)  // 2027-01-12 00:00 UTC
        let r = recaller(RecallOptions(dates: DateMatching(weight: 0.2, halfLife: 7 * day)))
        let ranked = r.rank([
            candidate("that day", cosine: 0.5, at: named.addingTimeInterval(3600)),
            candidate("a week later", cosine: 0.5, at: named.addingTimeInterval(8 * day)),
            candidate("better words", cosine: 0.6, at: named.addingTimeInterval(-60 * day)),
        ], limit: 3, now: now, semantic: true, query: "what happened on 12 January 2027?")
        // 0.25 + 0.2 inside the day; 0.25 + 0.1 a week after it; 0.3 + almost nothing two months before.
        #expect(ranked.map(\.candidate.id) == ["that day", "a week later", "better words"])
        let week = ranked.first { $0.candidate.id == "a week later" }!.components.first { $0.name == "date" }!
        #expect(week.raw == 7 * day && abs(week.value - 0.5) < 1e-9 && week.weight == 0.2)
        // A query without a date gets no date component.
        let undated = r.rank([candidate("x", cosine: 0.5)], limit: 1, now: now, semantic: true, query: "what happened?")
        #expect(value(undated[0], "date") == nil)
    }
}
