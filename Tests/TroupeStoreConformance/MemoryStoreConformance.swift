import Foundation
import Testing
import TroupeCore
import TroupeStore

/// The contract every ``MemoryStore`` keeps, run against each conformance.
public enum MemoryStoreConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("putThenGetReturnsEveryField", putThenGetReturnsEveryField),
        ConformanceCheck("putRejectsAnExistingID", putRejectsAnExistingID),
        ConformanceCheck("updateSupersedesAndKeepsHistory", updateSupersedesAndKeepsHistory),
        ConformanceCheck("staleUpdateIsAConflictAndChangesNothing", staleUpdateIsAConflictAndChangesNothing),
        ConformanceCheck("forgetRemovesEveryVersionAndLeavesAnAuditLine", forgetRemovesEveryVersionAndLeavesAnAuditLine),
        ConformanceCheck("queryFiltersOrdersAndPages", queryFiltersOrdersAndPages),
        ConformanceCheck("upsertInsertsUpdatesAndSkipsUnchanged", upsertInsertsUpdatesAndSkipsUnchanged),
        ConformanceCheck("upsertRefusesToMoveARecordAndWritesNothingOfTheBatch", upsertRefusesToMoveARecordAndWritesNothingOfTheBatch),
        ConformanceCheck("aNewVersionWithTheSameContentKeepsItsVector", aNewVersionWithTheSameContentKeepsItsVector),
        ConformanceCheck("touchRecordsUse", touchRecordsUse),
        ConformanceCheck("statsCountPerOwnerAndSlice", statsCountPerOwnerAndSlice),
        ConformanceCheck("concurrentWritersAllLand", concurrentWritersAllLand),
    ]

    static func putThenGetReturnsEveryField(_ store: any MemoryStore) async throws {
        var r = record("a", "hestia", .working, content: "line one\nline \"two\" ✓", importance: 0.25, tags: ["x", "y"], at: 5)
        r.expiresAt = t0.addingTimeInterval(3600)
        r.metadata = .object(["k": .array([.number(1), .bool(true), .null, .string("s")])])
        r.modelID = "test-model"
        try await store.put(r)
        #expect(try await store.get("a") == r)
        #expect(try await store.get("missing") == nil)
    }

    static func putRejectsAnExistingID(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "first"))
        let error = await #expect(throws: TroupeError.self) { try await store.put(record("a", content: "second")) }
        #expect(error?.code == .duplicate)
        #expect(try await store.get("a")?.content == "first")
    }

    static func updateSupersedesAndKeepsHistory(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "SQLite is the truth"))
        let t1 = t0.addingTimeInterval(100)
        let v2 = try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "SQLite in WAL is the truth"), writer: "athena", at: t1)
        #expect(v2.version == 2 && v2.source == "athena" && v2.validFrom == t1 && v2.validTo == nil)
        #expect(v2.createdAt == t0)

        let history = try await store.history("a")
        #expect(history.forgotten == nil)
        #expect(history.versions.map(\.version) == [1, 2])
        #expect(history.versions[0].content == "SQLite is the truth")
        #expect(history.versions[0].validTo == t1)
        #expect(history.versions[1] == v2)
        #expect(try await store.get("a") == v2)
    }

    static func staleUpdateIsAConflictAndChangesNothing(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "one"))
        _ = try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "two"), writer: "w1", at: t0)
        let error = await #expect(throws: TroupeError.self) {
            try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "three"), writer: "w2", at: t0)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("version 2") == true)
        #expect(try await store.get("a")?.content == "two")
        #expect(try await store.history("a").versions.count == 2)
    }

    static func forgetRemovesEveryVersionAndLeavesAnAuditLine(_ store: any MemoryStore) async throws {
        try await store.put(record("a", "seshat", .episodic, content: "a private detail"))
        _ = try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "a private detail, corrected"), writer: "seshat", at: t0)
        let receipt = try await store.forget("a", reason: "asked to", at: t0.addingTimeInterval(9))
        #expect(receipt.versions == 2 && receipt.owner == "seshat" && receipt.slice == "episodic")
        #expect(try await store.get("a") == nil)
        let history = try await store.history("a")
        #expect(history.versions.isEmpty)
        #expect(history.forgotten == receipt)
        #expect(try await store.query(MemoryQuery()).isEmpty)
        let stats = try await store.stats()
        #expect(stats.total == 0 && stats.forgotten == 1 && stats.supersededVersions == 0)
        await #expect(throws: TroupeError.self) { try await store.forget("a", reason: nil, at: t0) }
    }

    static func queryFiltersOrdersAndPages(_ store: any MemoryStore) async throws {
        for i in 0..<30 {
            let owner: PersonaID = i % 3 == 0 ? "athena" : i % 3 == 1 ? "artemis" : "hestia"
            try await store.put(record("r\(i)", owner, SliceKind.allCases[i % 4], content: "item \(i)", tags: i % 2 == 0 ? ["even"] : [], at: Double(i)))
        }
        let athena = try await store.query(MemoryQuery(owners: ["athena"]))
        #expect(athena.count == 10 && athena.allSatisfy { $0.owner == "athena" })
        #expect(athena.map(\.createdAt) == athena.map(\.createdAt).sorted(by: >))

        let filtered = try await store.query(MemoryQuery(owners: ["athena", "hestia"], slices: [.semantic, .working], tag: "even"))
        let wanted: [Int] = (0..<30).filter { i in i % 3 != 1 && (i % 4 == 0 || i % 4 == 2) && i % 2 == 0 }
        let wantedIDs = Set(wanted.map { "r\($0)" })
        #expect(Set(filtered.map(\.id)) == wantedIDs)

        let window = try await store.query(MemoryQuery(createdAfter: t0.addingTimeInterval(9), createdBefore: t0.addingTimeInterval(12)))
        #expect(Set(window.map(\.id)) == ["r10", "r11"])

        // Paging in canonical order visits every record once.
        var seen: [String] = []
        var page = MemoryQuery(order: .canonical, limit: 7)
        while true {
            let records = try await store.query(page)
            seen += records.map(\.id)
            guard records.count == 7 else { break }
            page.after = records.last
        }
        let all = try await store.query(MemoryQuery(order: .canonical))
        #expect(seen == all.map(\.id))
        #expect(Set(seen).count == 30)
    }

    static func upsertInsertsUpdatesAndSkipsUnchanged(_ store: any MemoryStore) async throws {
        let first = try await store.upsert([record("a", content: "alpha"), record("b", content: "beta")], writer: "import", at: t0)
        #expect(first == UpsertSummary(inserted: 2, updated: 0, unchanged: 0))
        let second = try await store.upsert([record("a", content: "alpha"), record("b", content: "beta v2"), record("c", content: "gamma")], writer: "import", at: t0)
        #expect(second == UpsertSummary(inserted: 1, updated: 1, unchanged: 1))
        #expect(try await store.get("b")?.version == 2)
        #expect(try await store.history("b").versions.first?.content == "beta")
        #expect(try await store.stats().total == 3)
    }

    /// The vector is of the content: a version that changes only tags or importance keeps it,
    /// and says so (its model).
    static func aNewVersionWithTheSameContentKeepsItsVector(_ store: any MemoryStore) async throws {
        let vector = EmbeddedVector(model: "m", values: [1, 0, 0])
        try await store.put(record("v1", content: "the launch is in March", tags: ["a"]), vector: vector)
        var retagged = record("v1", content: "the launch is in March", tags: ["b"])
        retagged.importance = 0.9
        let result = try await store.upsert([retagged], vectors: [:], writer: "athena", at: t0.addingTimeInterval(1))
        #expect(result.summary.updated == 1 && result.written.first?.modelID == "m")
        #expect(try await store.get("v1")?.modelID == "m")
        #expect(try await store.countWithoutVector(model: "m") == 0)
        let updated = try await store.update(
            "v1", expectedVersion: 2, change: MemoryChange(importance: 0.3), writer: "athena", at: t0.addingTimeInterval(2), vector: nil)
        let afterUpdate = try await store.get("v1")
        #expect(updated.modelID == "m" && afterUpdate?.modelID == "m")
        // A new content has no vector until one is stored.
        let rewritten = try await store.update(
            "v1", expectedVersion: 3, change: MemoryChange(content: "the launch is in April"), writer: "athena", at: t0.addingTimeInterval(3),
            vector: nil)
        let afterRewrite = try await store.get("v1")
        #expect(rewritten.modelID == nil && afterRewrite?.modelID == nil)
        #expect(try await store.countWithoutVector(model: "m") == 1)
    }

    static func upsertRefusesToMoveARecordAndWritesNothingOfTheBatch(_ store: any MemoryStore) async throws {
        try await store.put(record("a", "athena", .semantic, content: "alpha"))
        await #expect(throws: TroupeError.self) {
            try await store.upsert([record("b", content: "beta"), record("a", "artemis", .semantic, content: "alpha")], writer: "import", at: t0)
        }
        // One transaction: the valid first record of the failed batch did not land either.
        #expect(try await store.get("b") == nil)
        #expect(try await store.get("a")?.owner == "athena")
    }

    static func touchRecordsUse(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "alpha"))
        let later = t0.addingTimeInterval(60)
        try await store.touch(["a", "missing"], at: later)
        try await store.touch(["a"], at: later)
        let r = try await store.get("a")
        #expect(r?.accessCount == 2 && r?.lastAccessedAt == later)
        // An id given twice is two uses: two recalls answered in one batch count as two.
        try await store.put(record("b", content: "beta"))
        try await store.touch(["b", "a", "b"], at: later)
        #expect(try await store.get("a")?.accessCount == 3)
        #expect(try await store.get("b")?.accessCount == 2)
    }

    static func statsCountPerOwnerAndSlice(_ store: any MemoryStore) async throws {
        try await store.put(record("a", "athena", .semantic, content: "x"))
        try await store.put(record("b", "athena", .semantic, content: "y"))
        try await store.put(record("c", "athena", .working, content: "z"))
        try await store.put(record("d", "team-decisions", .semantic, content: "w"))
        let stats = try await store.stats()
        #expect(stats.total == 4)
        #expect(stats.buckets.map { "\($0.owner)/\($0.slice.rawValue)=\($0.count)" } == [
            "athena/working=1", "athena/semantic=2", "team-decisions/semantic=1",
        ])
    }

    static func concurrentWritersAllLand(_ store: any MemoryStore) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for i in 0..<50 { try await store.put(record("w\(writer)-\(i)", content: "writer \(writer) item \(i)")) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.stats().total == 400)
    }
}
