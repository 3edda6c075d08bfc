import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeSQLite
import TroupeStore

@Suite("Conversation context in the index")
struct ConversationContextTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func turn(_ id: String, _ content: String, at offset: TimeInterval = 0, tags: [String] = [], owner: PersonaID = "athena") -> MemoryRecord {
        MemoryRecord(id: id, owner: owner, slice: .episodic, content: content, tags: tags, source: "t", createdAt: t0.addingTimeInterval(offset))
    }

    func query(_ text: String, window: Int = 1, gap: TimeInterval = 3600, tag: String? = nil) -> IndexQuery {
        var q = IndexQuery(terms: LexicalTokenizer.tokens(text), vector: nil, owners: ["athena"], slices: nil, tag: tag, candidates: 10)
        q.contextWindow = window
        q.contextGap = gap
        return q
    }

    func byID(_ found: [IndexCandidate]) -> [String: IndexCandidate] { Dictionary(uniqueKeysWithValues: found.map { ($0.id, $0) }) }

    /// Ten turns written in conversation order at one instant; their ids sort differently
    /// ("c-10" before "c-2").
    func conversation(_ store: any MemoryStore) async throws {
        let lines = [
            "hi there", "did you go camping", "yes last weekend", "it rained the whole time", "oh no", "we stayed in the tent",
            "sounds cosy", "it was", "see you soon", "bye then",
        ]
        for (i, text) in lines.enumerated() { try await store.put(turn("c-\(i + 1)", text)) }
    }

    @Test(arguments: [false, true])
    func neighboursFollowTheOrderOfWritesNotOfIds(sqlite: Bool) async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("m.sqlite").path
        let store: any MemoryStore = sqlite ? try await offThePool("troupe-test.sqlite.open") { try SQLiteStore(path: path) } : InMemoryStore()
        try await conversation(store)
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        let found = byID(try await index.search([query("camping")])[0])
        // The match, and its neighbours on each side, which become candidates no ranking found.
        #expect(Set(found.keys) == ["c-1", "c-2", "c-3"])
        #expect(found["c-2"]?.lexicalRank == 1)
        #expect(found["c-3"].map { $0.lexicalRank == nil && $0.denseRank == nil } == true)
        #expect(Set(found["c-2"]!.neighbours) == ["c-1", "c-3"])
        // A neighbour lists only the candidates beside it.
        #expect(found["c-3"]?.neighbours == ["c-2"])
        let wider = byID(try await index.search([query("camping", window: 2)])[0])
        #expect(Set(wider.keys) == ["c-1", "c-2", "c-3", "c-4"])
        #expect(try await index.search([query("camping", window: 0)])[0].map(\.id) == ["c-2"])
    }

    @Test func aGapInTimeEndsTheConversation() async throws {
        let store = InMemoryStore()
        try await store.put(turn("before", "an older chat", at: -7200))
        try await store.put(turn("start", "the first word", at: 0))
        try await store.put(turn("match", "camping talk", at: 60))
        try await store.put(turn("later", "next chat, hours on", at: 60 + 7200))
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        let found = byID(try await index.search([query("camping", window: 3, gap: 3600)])[0])
        #expect(Set(found.keys) == ["start", "match"])
        let longGap = byID(try await index.search([query("camping", window: 3, gap: 3 * 3600)])[0])
        #expect(Set(longGap.keys) == ["before", "start", "match", "later"])
    }

    @Test func neighboursKeepToTheQuerysFiltersAndTheOwnersSlice() async throws {
        let store = InMemoryStore()
        try await store.put(turn("a", "hello", at: 0, tags: ["trip"]))
        try await store.put(turn("b", "private aside", at: 10))
        try await store.put(turn("c", "camping plans", at: 20, tags: ["trip"]))
        try await store.put(turn("d", "theirs, same minute", at: 25, owner: "hestia"))
        try await store.put(turn("e", "see you", at: 30, tags: ["trip"]))
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        let found = byID(try await index.search([query("camping", tag: "trip")])[0])
        // "b" is skipped (no tag) without ending the conversation; hestia's record is not athena's.
        #expect(Set(found.keys) == ["a", "c", "e"])
        #expect(Set(found["c"]!.neighbours) == ["a", "e"])
    }

    @Test func orderSurvivesWritesOutOfOrderUpdatesAndCompaction() async throws {
        let store = InMemoryStore()
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        _ = try await index.search([query("camping")])
        // 400 turns a minute apart, written newest first after the index has loaded: it catches up
        // with them in id order, which is not their order in time.
        for i in (0..<400).reversed() { try await store.put(turn("t\(i)", i == 200 ? "the camping trip" : "turn \(i)", at: Double(i) * 60)) }
        var found = byID(try await index.search([query("camping")])[0])
        #expect(Set(found.keys) == ["t199", "t200", "t201"])
        // Forget most of them (the partition compacts), then write one more in the middle.
        for i in 0..<400 where i % 4 != 0 && ![199, 200, 201].contains(i) { _ = try await store.forget("t\(i)", reason: nil, at: t0) }
        try await store.put(turn("late", "added later", at: 200 * 60 + 30))
        found = byID(try await index.search([query("camping")])[0])
        #expect(Set(found.keys) == ["t199", "t200", "late"])
        found = byID(try await index.search([query("camping", window: 3)])[0])
        #expect(Set(found.keys) == ["t192", "t196", "t199", "t200", "late", "t201", "t204"])
    }
}
