import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// Recall that puts the truth first (issue 25): a current fact a person stated above episodes and
/// replies that repeat the value it replaced, no irrelevant memory filling a slot, and `why`
/// figures that are what they say.
@Suite("Recall: truth first")
struct RecallTruthTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Trust read from a `trust` number in the metadata, as the runtime reads it from provenance.
    static let trust = TrustRanking(name: "test", highest: 4) { metadata in
        guard case .object(let m)? = metadata, case .number(let rank)? = m["trust"] else { return nil }
        return Int(rank)
    }

    static let truthFirst = RecallOptions(
        lexicalScale: .fullMatch, semanticScale: .best, dropStopwords: true, floor: RelevanceFloor(), trust: trust, discountsSuperseded: true)

    func record(_ id: String, _ slice: SliceKind, _ content: String, trust: Int?, minutesAgo: Double) -> MemoryRecord {
        MemoryRecord(
            id: id, owner: "athena", slice: slice, content: content, source: "test", createdAt: now.addingTimeInterval(-60 * minutesAgo),
            metadata: trust.map { .object(["trust": .number(Double($0))]) })
    }

    /// The REPL's story: the person said the launch is on 14 March (an episode of that turn and
    /// the persona's reply repeat it), then that it moved to 21 March (the fact's version 2).
    func launchStore() async throws -> InMemoryStore {
        let store = InMemoryStore()
        try await store.put(record("fact", .semantic, "the launch is on 14 March", trust: 4, minutesAgo: 30))
        _ = try await store.update(
            "fact", expectedVersion: 1, change: MemoryChange(content: "the launch moved to 21 March"), writer: "user", at: now.addingTimeInterval(-60))
        try await store.put(record("episode", .episodic, "user: the launch is on 14 March\nathena: Noted, the launch is on 14 March.", trust: 3, minutesAgo: 29))
        try await store.put(record("reply", .working, "The launch is on 14 March, as you said.", trust: 1, minutesAgo: 10))
        try await store.put(record("coffee", .episodic, "user: the coffee machine on floor two is broken\nathena: I will tell facilities.", trust: 3, minutesAgo: 20))
        try await store.put(record("lunch", .semantic, "lunch is served at noon in the canteen", trust: 4, minutesAgo: 25))
        try await VectorBackfill(store: store, embedder: HashingEmbedder()).run()
        return store
    }

    func recaller(_ store: InMemoryStore, _ options: RecallOptions) -> Recaller {
        Recaller(
            store: store, index: RecallIndex(source: store, model: "hashing-384-v1", dimension: 384), embedder: HashingEmbedder(),
            weights: RecallWeights(semantic: 0.6, lexical: 0.2, recency: 0.1, importance: 0.1), clock: ManualClock(now), options: options)
    }

    @Test func currentPersonFactOutranksStaleEpisodeAndOwnReply() async throws {
        let store = try await launchStore()
        let hits = try await recaller(store, Self.truthFirst).recall(RecallRequest(query: "when is the launch?", owners: ["athena"], limit: 10))
        let ids = hits.map(\.record.id)
        #expect(ids.first == "fact", "\(ids)")
        #expect(hits.first?.record.content == "the launch moved to 21 March")
        // The superseded version is no candidate: the fact is there once, as its current version.
        #expect(ids.filter { $0 == "fact" }.count == 1)
        for stale in ["episode", "reply"] {
            let hit = try #require(hits.first { $0.record.id == stale })
            let part = try #require(hit.components.first { $0.name == "superseded" })
            #expect(part.source == "fact" && part.raw == 1 && part.contribution < 0)
            #expect(abs(hit.score - hit.components.reduce(0) { $0 + $1.contribution }) < 1e-9)
        }
        #expect(!(hits[0].components.contains { $0.name == "superseded" }))
        // The person's fact has nothing taken for trust; the persona's reply three steps of four.
        #expect(hits[0].components.first { $0.name == "trust" }?.contribution == 0)
        let replyHit = try #require(hits.first { $0.record.id == "reply" })
        let reply = try #require(replyHit.components.first { $0.name == "trust" })
        #expect(reply.raw == 1 && abs(reply.contribution + 0.5 * 0.75 * Recaller.relevance(of: replyHit)) < 1e-9)
    }

    @Test func withoutTheDiscountTheStaleEpisodeWouldLead() async throws {
        // The same store ranked without trust and the superseded discount: the repeated stale
        // value outranks the current fact, which is what the discount is for.
        let store = try await launchStore()
        var plain = Self.truthFirst
        (plain.trust, plain.discountsSuperseded) = (nil, false)
        let ids = try await recaller(store, plain).recall(RecallRequest(query: "when is the launch?", owners: ["athena"], limit: 10)).map(\.record.id)
        #expect(ids.firstIndex(of: "episode")! < ids.firstIndex(of: "fact")!, "\(ids)")
    }

    @Test func aStaleMemoryLendsNoContextToItsNeighbours() async throws {
        let store = try await launchStore()
        // The turn after the stale episode, in the same conversation.
        try await store.put(record("party", .episodic, "user: is the launch party catered?\nathena: Yes, by the canteen.", trust: 3, minutesAgo: 28))
        try await VectorBackfill(store: store, embedder: HashingEmbedder()).run()
        var options = Self.truthFirst
        options.context = ConversationContext(weight: 0.5, window: 1, gap: 3600)
        let hits = try await recaller(store, options).recall(RecallRequest(query: "when is the launch?", owners: ["athena"], limit: 10))
        let party = try #require(hits.first { $0.record.id == "party" })
        let context = try #require(party.components.first { $0.name == "context" })
        #expect(context.source == "episode" && context.raw > 0 && context.value == 0)
        #expect(abs(party.score - party.components.reduce(0) { $0 + $1.contribution }) < 1e-9)
        #expect(hits.first?.record.id == "fact", "\(hits.map(\.record.id))")
    }

    @Test func theFloorLeavesSlotsEmptyRatherThanFillThemWithTheUnrelated() async throws {
        let store = try await launchStore()
        let request = RecallRequest(query: "when is the launch?", owners: ["athena"], limit: 10)
        let floored = try await recaller(store, Self.truthFirst).recall(request)
        var unfloored = Self.truthFirst
        unfloored.floor = nil
        let filled = try await recaller(store, unfloored).recall(request)
        #expect(filled.count == 5)
        #expect(floored.count < filled.count)
        #expect(!floored.contains { $0.record.id == "coffee" || $0.record.id == "lunch" }, "\(floored.map(\.record.id))")
        // What stays matched a word of the query or came closer than the query's typical cosine.
        for hit in floored {
            let lexical = hit.components.first { $0.name == "lexical" }!.raw
            #expect(lexical > 0 || hit.components.first { $0.name == "semantic" }!.raw > 0)
        }
    }

    func candidate(
        _ id: String, bm25: Double = 0, cosine: Double?, typical: Double? = 0.1, deviation: Double? = nil, neighbours: [String] = []
    ) -> IndexCandidate {
        var c = IndexCandidate(id: id, owner: "athena", slice: .episodic, bm25: bm25, bm25Ceiling: 8.8, cosine: cosine, createdAt: now, importance: 0.5)
        (c.typicalCosine, c.cosineDeviation) = (typical, deviation)
        c.neighbours = neighbours
        return c
    }

    @Test func floorIsTheTypicalCosineAndHalfADeviationOrTheMinimum() {
        let store = InMemoryStore()
        var options = RecallOptions(context: ConversationContext(weight: 0.5, window: 1, gap: 3600), floor: RelevanceFloor())
        let r = Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: RecallWeights(), clock: ManualClock(now),
            options: options)
        let ranked = r.rank([
            candidate("negative", cosine: -0.2, typical: -0.5), candidate("below", cosine: 0.25, typical: 0.3),
            candidate("above", cosine: 0.35, typical: 0.3), candidate("words", bm25: 2, cosine: -0.1),
            candidate("answer", cosine: 0.05, typical: 0.3, neighbours: ["above"]),
            // Half a standard deviation above the mean: 0.1 + 0.5 × 0.2 = 0.2.
            candidate("near", cosine: 0.18, typical: 0.1, deviation: 0.2), candidate("apart", cosine: 0.22, typical: 0.1, deviation: 0.2),
        ], limit: 10, now: now, semantic: true)
        // "answer" has a relevant neighbour, which does not make it relevant.
        #expect(Set(ranked.map(\.candidate.id)) == ["above", "words", "apart"])
        options.floor = RelevanceFloor(minSimilarity: 0.4)
        let strict = Recaller(
            store: store, index: RecallIndex(source: store, model: nil, dimension: 4), embedder: nil, weights: RecallWeights(), clock: ManualClock(now),
            options: options)
        #expect(strict.rank([candidate("above", cosine: 0.35, typical: 0.3)], limit: 10, now: now, semantic: true).isEmpty)
        // A rule applies whatever the question's words.
        var rule = candidate("rule", cosine: -0.1)
        rule.slice = .procedural
        #expect(strict.rank([rule], limit: 10, now: now, semantic: true).map(\.candidate.id) == ["rule"])
    }

    @Test func theTypicalCosineIsTheMeanAndDeviationOverTheSearchedRecords() async throws {
        let store = try await launchStore()
        let index = RecallIndex(source: store, model: "hashing-384-v1", dimension: 384)
        let embedder = HashingEmbedder()
        let query = embedder.embed(["when is the launch?"])[0]
        let found = try await index.search([IndexQuery(terms: ["launch"], vector: query, owners: ["athena"], slices: [.semantic, .episodic], candidates: 10)])[0]
        let records = await store.query(MemoryQuery(owners: ["athena"], slices: [.semantic, .episodic]))
        let cosines = embedder.embed(records.map(\.content)).map { v in Double(zip(v, query).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        let deviation = (cosines.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cosines.count)).squareRoot()
        #expect(records.count == 4 && !found.isEmpty)
        for c in found {
            #expect(abs(c.typicalCosine! - mean) < 1e-5 && abs(c.cosineDeviation! - deviation) < 1e-5)
        }
    }

    @Test func whyComponentsCarryTheRawFiguresAndWhatTheyWereDividedBy() async throws {
        let store = try await launchStore()
        let hits = try await recaller(store, Self.truthFirst).recall(RecallRequest(query: "when is the launch?", owners: ["athena"], limit: 10))
        let semantic = hits.compactMap { $0.components.first { $0.name == "semantic" } }
        let best = try #require(semantic.map(\.raw).max())
        for part in semantic {
            // `raw` is the cosine itself, `reference` the best one the value is a share of.
            #expect(part.reference == best && abs(part.value - max(0, part.raw) / best) < 1e-9)
            #expect(part.raw < 1)
        }
        let lexical = try #require(hits[0].components.first { $0.name == "lexical" })
        #expect(lexical.raw > 0 && abs(lexical.value - min(1, lexical.raw / lexical.reference!)) < 1e-9)
    }

    @Test func aStaleValueIsRepeatedOnlyWithItsTopicAndWithoutTheNewValue() throws {
        let old = MemoryRecord(id: "f", owner: "athena", slice: .semantic, content: "the launch is on 14 March", source: "t", createdAt: now)
        var current = old
        (current.content, current.version) = ("the launch moved to 21 March", 2)
        let value = try #require(Recaller.SupersededValue(old: old, current: current))
        func repeats(_ text: String) -> Bool { value.isRepeated(by: Set(QueryStopwords.contentTokens(text))) }
        #expect(repeats("Noted: the launch is on 14 March."))
        #expect(!repeats("The launch moved from 14 March to 21 March."))
        #expect(!repeats("We have 14 people in the team."))
        #expect(!repeats("Lunch is at noon."))
        // A new version that only drops words says nothing old that the new one does not.
        var shorter = old
        (shorter.content, shorter.version) = ("the launch", 2)
        #expect(Recaller.SupersededValue(old: old, current: shorter) != nil)
        #expect(Recaller.SupersededValue(old: shorter, current: old) == nil)
    }
}
