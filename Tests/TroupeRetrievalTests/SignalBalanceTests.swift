import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

@Suite("Signal balance: the dense ranking's spread splits the semantic and lexical weights")
struct SignalBalanceTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func candidate(_ id: String, bm25: Double, cosine: Double) -> IndexCandidate {
        // Ceiling 8.8 with k1 = 1.2: a full match scores 4.
        IndexCandidate(id: id, owner: "athena", slice: .episodic, bm25: bm25, bm25Ceiling: 8.8, cosine: cosine, createdAt: now, importance: 0.5)
    }

    func rank(_ candidates: [IndexCandidate], balance: SignalBalance?) -> [Recaller.Ranked] {
        let store = InMemoryStore()
        let recaller = Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil,
            weights: RecallWeights(semantic: 0.6, lexical: 0.2, recency: 0, importance: 0), clock: ManualClock(now),
            options: RecallOptions(lexicalScale: .fullMatch, semanticScale: .best, balance: balance))
        return recaller.rank(candidates, limit: candidates.count, now: now, semantic: true)
    }

    func component(_ r: Recaller.Ranked, _ name: String) -> ScoreComponent { r.components.first { $0.name == name }! }

    @Test func theSpreadIsTheFallFromTheBestToTheDepthsCosineAsAShareOfTheBest() {
        let balance = SignalBalance(floor: 0.4, ceiling: 0.8, depth: 3)
        #expect(abs(balance.spread(of: [0.3, 0.8, 0.6, 0.4]) - 0.5) < 1e-12)  // third best: (0.8 - 0.4) / 0.8
        #expect(abs(balance.spread(of: [0.5, 0.25]) - 0.5) < 1e-12)  // fewer than depth: to the last
        #expect(balance.spread(of: [0.7]) == 0 && balance.spread(of: []) == 0 && balance.spread(of: [-0.2, -0.1]) == 0)
        #expect(abs(balance.semanticShare(spread: 0.1) - 0.5) < 1e-12)
        #expect(balance.semanticShare(spread: 0.6) == 0.8)
        #expect(SignalBalance(floor: 0.6, ceiling: 0.3).ceiling == 0.6, "a ceiling below the floor is the floor")
    }

    // A long conversation: eleven turns all about as close in meaning to the question (cosines
    // 0.600 down to 0.550) and holding most of its words, and one a little further in meaning
    // that holds every word.
    var flat: [IndexCandidate] {
        (0..<11).map { i in candidate("turn\(i)", bm25: 3, cosine: 0.60 - Double(i) * 0.005) } + [candidate("answer", bm25: 4, cosine: 0.528)]
    }

    @Test func whenMeaningCannotTellMemoriesApartTheirWordsDecide() {
        let fixed = rank(flat, balance: nil)
        let balanced = rank(flat, balance: SignalBalance())
        #expect(fixed[0].candidate.id == "turn0", "with 0.6 / 0.2 the best cosine wins")
        #expect(balanced[0].candidate.id == "answer", "\(balanced.map(\.candidate.id))")
        // Spread (0.600 - 0.555) / 0.600 = 0.075: semantic gets 0.475 of the weight they share
        // (all of it, recency and importance being 0 here).
        let semantic = component(balanced[0], "semantic"), lexical = component(balanced[0], "lexical")
        #expect(abs(semantic.spread! - 0.075) < 1e-9 && lexical.spread == semantic.spread)
        #expect(abs(semantic.weight - 0.475) < 1e-9 && abs(lexical.weight - 0.525) < 1e-9)
        #expect(component(fixed[0], "semantic").spread == nil && component(fixed[0], "semantic").weight == 0.75)
    }

    @Test func whenOneMemoryStandsOutInMeaningItStaysFirst() {
        // A paraphrase: its answer shares no word with it, but stands out among the cosines.
        var candidates = (0..<11).map { i in candidate("other\(i)", bm25: i == 3 ? 3 : 0, cosine: 0.45 - Double(i) * 0.02) }
        candidates.append(candidate("answer", bm25: 0, cosine: 0.7))
        let ranked = rank(candidates, balance: SignalBalance())
        #expect(ranked[0].candidate.id == "answer")
        #expect(abs(component(ranked[0], "semantic").weight - 0.8) < 1e-9, "the spread (0.59) is past the ceiling")
    }

    @Test func withoutCosinesTheWeightsAreTheConfiguredOnes() {
        let store = InMemoryStore()
        let recaller = Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil,
            weights: RecallWeights(semantic: 0.6, lexical: 0.2, recency: 0.1, importance: 0.1), clock: ManualClock(now),
            options: RecallOptions(balance: SignalBalance()))
        let ranked = recaller.rank([candidate("a", bm25: 2, cosine: 0.5)], limit: 1, now: now, semantic: false)
        #expect(ranked[0].components.map(\.name) == ["lexical", "recency", "importance"])
        #expect(abs(component(ranked[0], "lexical").weight - 0.5) < 1e-9 && component(ranked[0], "lexical").spread == nil)
    }
}
