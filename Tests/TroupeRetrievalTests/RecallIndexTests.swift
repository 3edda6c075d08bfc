import Foundation
import TroupeSQLite
import TroupeStoreConformance
import GRDB
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

@Suite("Recall index")
struct RecallIndexTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func record(_ id: String, _ content: String, tags: [String] = []) -> MemoryRecord {
        record(id, "athena", .semantic, content, tags: tags)
    }

    func record(_ id: String, _ slice: SliceKind, _ content: String, tags: [String] = []) -> MemoryRecord {
        record(id, "athena", slice, content, tags: tags)
    }

    func record(_ id: String, _ owner: PersonaID, _ slice: SliceKind, _ content: String, tags: [String] = []) -> MemoryRecord {
        MemoryRecord(id: id, owner: owner, slice: slice, content: content, tags: tags, source: "t", createdAt: t0)
    }

    func query(_ text: String, vector: [Float]? = nil, owners: [PersonaID] = ["athena"], slices: [SliceKind]? = nil, tag: String? = nil, k: Int = 10) -> IndexQuery {
        IndexQuery(terms: LexicalTokenizer.tokens(text), vector: vector, owners: owners, slices: slices, tag: tag, candidates: k)
    }

    @Test func bm25MatchesSQLiteFTS5() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("m.sqlite").path
        let store = try await offThePool("troupe-test.sqlite.open") { try SQLiteStore(path: path) }
        let texts = [
            "the cat sat on the mat", "the dog sat", "a cat and a dog and a cat", "red sun over the big hill",
            "cat cat cat cat", "the mat was red", "nothing in common here at all", "big dog big cat big mat",
            // Filler, so that no query term is in half the rows (where BM25's idf is floored).
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        ]
        for (i, text) in texts.enumerated() { try await store.put(record("r\(i)", text)) }
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        // SQLite's own FTS5 over the same rows, as the store kept it up to schema v5: the words,
        // and a second column of two scope tokens (owner, owner and slice) that weighs nothing.
        let fts = try DatabaseQueue()
        try await fts.write { db in
            try db.execute(sql: """
                CREATE VIRTUAL TABLE t USING fts5(content, scope, tokenize='porter unicode61 remove_diacritics 2');
                INSERT INTO t(t, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
                """)
            for (i, text) in texts.enumerated() {
                try db.execute(sql: "INSERT INTO t(rowid, content, scope) VALUES (?, ?, 'scopeowner scopeslice')", arguments: [i, text])
            }
        }
        for text in ["cat", "big mat", "dog sat red"] {
            let match = "content : (" + LexicalTokenizer.tokens(text).map { "\"\($0)\"" }.joined(separator: " OR ") + ")"
            let fts = try await fts.read { db in
                try Row.fetchAll(db, sql: "SELECT rowid, rank FROM t WHERE t MATCH ? ORDER BY rank LIMIT 20", arguments: [match])
                    .map { (record: (id: "r\($0["rowid"] as Int64)", ()), bm25: -($0["rank"] as Double)) }
            }
            let ours = try await index.search([query(text, k: 20)])[0].filter { $0.lexicalRank != nil }
            #expect(ours.map(\.id) == fts.map(\.record.id), "\(text)")
            for (a, b) in zip(ours, fts) { #expect(abs(a.bm25 - b.bm25) < 1e-9, "\(text): \(a.id) \(a.bm25) vs \(b.record.id) \(b.bm25)") }
        }
    }

    @Test func seesWritesOfAnotherConnectionAndForgetsRemovedRecords() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("m.sqlite").path
        let reader = try await offThePool("troupe-test.sqlite.open") { try SQLiteStore(path: path) }
        let writer = try await offThePool("troupe-test.sqlite.open") { try SQLiteStore(path: path) }  // as another process would
        try await writer.put(record("a", "the deploy freeze starts friday"))
        let index = RecallIndex(source: reader, model: nil, dimension: 4)
        #expect(try await index.search([query("freeze")])[0].map(\.id) == ["a"])

        try await writer.put(record("b", "freeze the schema before the release"))
        _ = try await writer.update("a", expectedVersion: 1, change: MemoryChange(content: "the deploy window opens monday"), writer: "t", at: t0)
        #expect(try await index.search([query("freeze")])[0].map(\.id) == ["b"])
        #expect(try await index.search([query("monday")])[0].map(\.id) == ["a"])

        _ = try await writer.forget("b", reason: nil, at: t0)
        #expect(try await index.search([query("freeze")])[0].isEmpty)
        #expect(await index.loadedRecords == 1)
    }

    @Test func searchesOnlyTheAskedOwnersSlicesAndTags() async throws {
        let store = InMemoryStore()
        try await store.put(record("mine", "athena", .semantic, "rotate the signing key", tags: ["security"]))
        try await store.put(record("mine-ep", "athena", .episodic, "we rotated the signing key today"))
        try await store.put(record("theirs", "hestia", .semantic, "rotate the signing key"))
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        #expect(Set(try await index.search([query("signing key")])[0].map(\.id)) == ["mine", "mine-ep"])
        #expect(try await index.search([query("signing key", slices: [.semantic])])[0].map(\.id) == ["mine"])
        #expect(try await index.search([query("signing key", tag: "security")])[0].map(\.id) == ["mine"])
        let both = try await index.search([query("signing key", owners: ["hestia"]), query("key", owners: ["athena"], slices: [.episodic])])
        #expect(both[0].map(\.id) == ["theirs"] && both[1].map(\.id) == ["mine-ep"])
    }

    @Test func denseRankingEqualsBruteForceAndSkipsStaleVectors() async throws {
        let store = InMemoryStore()
        var rng = SplitMix64(seed: 9)
        var vectors: [String: [Float]] = [:]
        for i in 0..<300 {
            let id = String(format: "v%03d", i)
            try await store.put(record(id, i % 2 == 0 ? .semantic : .episodic, "memory number \(i)", tags: i % 3 == 0 ? ["x"] : []))
            let v = (0..<8).map { _ in Float(Double(rng.next() % 2000) / 1000 - 1) }
            let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
            vectors[id] = v.map { $0 / norm }
        }
        _ = await store.storeVectors(vectors.map { RecordVector(id: $0.key, version: 1, model: "m", values: $0.value) })
        let index = RecallIndex(source: store, model: "m", dimension: 8)
        let q: [Float] = [0.5, -0.5, 0.5, -0.5, 0, 0, 0, 0]
        func brute(_ keep: (String) -> Bool) -> [String] {
            vectors.filter { keep($0.key) }.map { ($0.key, zip($0.value, q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(12).map(\.0)
        }
        let found = try await index.search([query("zzz", vector: q, k: 12)])[0]
        #expect(found.map(\.id) == brute { _ in true })
        #expect(found.allSatisfy { $0.denseRank != nil && $0.cosine != nil })
        let tagged = try await index.search([query("zzz", vector: q, tag: "x", k: 12)])[0]
        #expect(tagged.map(\.id) == brute { Int($0.dropFirst())! % 3 == 0 })

        // A new content drops the vector: the record leaves the dense ranking until re-embedded.
        let top = found[0].id
        _ = try await store.update(top, expectedVersion: 1, change: MemoryChange(content: "changed"), writer: "t", at: t0)
        let after = try await index.search([query("zzz", vector: q, k: 12)])[0]
        #expect(!after.map(\.id).contains(top))
    }

    /// A single query over more rows than `screenFrom` goes through the int8 screen; a batch of two
    /// goes through sgemm on the Float32 rows. Both must equal brute force, filters included.
    @Test func screenedSingleQueriesEqualBatchedAndBruteForce() async throws {
        // 24K rows through an in-memory store (a default actor: it follows the task's executor
        // preference) and brute-force answers: seconds of CPU work in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.recall-index") {
            let store = InMemoryStore()
            let d = 32, rows = 24_000
            let vectors = RandomVectors.unitVectors(rows, dimension: d, seed: 4)
            var batch: [MemoryRecord] = []
            for i in 0..<rows {
                let slice: SliceKind = [.semantic, .episodic, .procedural][i % 3]
                batch.append(record(String(format: "v%05d", i), slice, "memory \(i)", tags: i % 4 == 0 ? ["x"] : []))
            }
            _ = try await store.upsert(batch, writer: "t", at: t0)
            _ = await store.storeVectors(zip(batch, vectors).map { RecordVector(id: $0.id, version: 1, model: "m", values: $1) })
            let index = RecallIndex(source: OffThePoolSource(store), model: "m", dimension: d)
            let queries = RandomVectors.unitVectors(6, dimension: d, seed: 5)
            for (n, q) in queries.enumerated() {
                let tag: String? = n % 2 == 0 ? nil : "x"
                let expected = zip(batch, vectors).filter { tag == nil || $0.0.tags.contains("x") }
                    .map { ($0.0.id, zip($0.1, q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                    .sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(50).map(\.0)
                let single = try await index.search([query("zzz", vector: q, tag: tag, k: 50)])[0].map(\.id)
                let batched = try await index.search([query("zzz", vector: q, tag: tag, k: 50), query("zzz", vector: queries[0], k: 5)])[0].map(\.id)
                #expect(single == batched, "query \(n)")
                // Brute force sums in another order: compare as sets, and the order where scores differ clearly.
                #expect(Set(single) == Set(expected), "query \(n)")
            }
            // Every single query went through the screen and proved its answer.
            #expect(await index.screenOutcomes == (proven: 6, declined: 0))
        }
    }

    @Test(.timeLimit(.minutes(10))) func concurrentSearchesAllFinishAndAgree() async throws {
        let store = InMemoryStore()
        for i in 0..<300 { try await store.put(record("r\(i)", i % 2 == 0 ? .semantic : .episodic, "common words and token\(i)")) }
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        // Many callers at once, while writes land: each must finish (no caller may spin on
        // another's refresh) and see its own record.
        let found = try await withThrowingTaskGroup(of: [String].self) { group in
            for i in 0..<40 {
                group.addTask {
                    if i % 5 == 0 { try await store.put(self.record("new\(i)", .semantic, "fresh token\(i)")) }
                    return try await index.search([self.query("token\(i % 300)")])[0].map(\.id)
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(found.count == 40)
        #expect(found.allSatisfy { !$0.isEmpty })
    }

    @Test func compactionKeepsResultsRight() async throws {
        let store = InMemoryStore()
        for i in 0..<1200 { try await store.put(record("r\(i)", "shared words and number\(i)")) }
        let index = RecallIndex(source: store, model: nil, dimension: 4)
        #expect(try await index.search([query("number7")])[0].map(\.id) == ["r7"])
        for i in 0..<1000 where i != 7 { _ = try await store.forget("r\(i)", reason: nil, at: t0) }
        #expect(try await index.search([query("number7")])[0].map(\.id) == ["r7"])
        #expect(try await index.search([query("number1100")])[0].map(\.id) == ["r1100"])
        #expect(await index.loadedRecords == 201)
        #expect(try await index.search([query("shared", k: 500)])[0].count == 201)
    }
}

/// A directory removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    // Safe: immutable after init.
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Removed in the background (``DirectoryRemoval``): the last release happens in a test's
    /// task, on the cooperative pool.
    deinit { DirectoryRemoval.remove(url) }
}
