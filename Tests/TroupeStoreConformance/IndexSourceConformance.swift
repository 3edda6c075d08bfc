import Foundation
import Testing
import TroupeCore
import TroupeStore

/// The index feed every store keeps: scans with vectors, the change feed, and vector writes.
public enum IndexSourceConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("entriesCarryTheOrderOfFirstWriteAcrossVersions", entriesCarryTheOrderOfFirstWriteAcrossVersions),
        ConformanceCheck("changeFeedReportsWritesAndRemovalsAfterACursor", changeFeedReportsWritesAndRemovalsAfterACursor),
        ConformanceCheck("vectorsAreStoredPerModelAndDroppedWhenContentChanges", vectorsAreStoredPerModelAndDroppedWhenContentChanges),
        ConformanceCheck("scansPageByIDWithinOwnersAndSlices", scansPageByIDWithinOwnersAndSlices),
    ]

    static func changeFeedReportsWritesAndRemovalsAfterACursor(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "first"))
        let cursor = try await store.changeCursor()
        try await store.put(record("b", content: "second"))
        _ = try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "first, revised"), writer: "t", at: t0)
        try await store.put(record("c", content: "third"))
        _ = try await store.forget("c", reason: nil, at: t0)
        try await store.touch(["b"], at: t0)

        let feed = try await store.changes(since: cursor, limit: 100)
        #expect(feed.changed == ["a", "b"])
        #expect(feed.removed == ["c"])
        #expect(!feed.mustReload)
        #expect(feed.cursor > cursor)
        let after = try await store.changes(since: feed.cursor, limit: 100)
        #expect(after.changed.isEmpty && after.removed.isEmpty && after.cursor == feed.cursor)

        // A small limit pages through the same changes.
        var paged = try await store.changes(since: cursor, limit: 2)
        var seen = Set(paged.changed + paged.removed)
        while true {
            let next = try await store.changes(since: paged.cursor, limit: 2)
            if next.cursor == paged.cursor { break }
            seen.formUnion(next.changed + next.removed)
            paged = next
        }
        #expect(seen == ["a", "b", "c"])
    }

    static func vectorsAreStoredPerModelAndDroppedWhenContentChanges(_ store: any MemoryStore) async throws {
        try await store.put(record("a", content: "alpha"))
        try await store.put(record("b", "hestia", .episodic, content: "beta"))
        #expect(try await store.countWithoutVector(model: "m1") == 2)

        let stored = try await store.storeVectors([
            RecordVector(id: "a", version: 1, model: "m1", values: [0.25, -1, 3.5]),
            RecordVector(id: "b", version: 7, model: "m1", values: [1, 2, 3]),  // stale version: skipped
            RecordVector(id: "zz", version: 1, model: "m1", values: [1, 2, 3]),  // no such record: skipped
        ])
        #expect(stored == 1)
        #expect(try await store.get("a")?.modelID == "m1")
        #expect(try await store.countWithoutVector(model: "m1") == 1)
        #expect(try await store.entriesWithoutVector(model: "m1", after: nil, limit: 10).map(\.id) == ["b"])
        #expect(try await store.entriesWithoutVector(model: "m1", after: "b", limit: 10).isEmpty)

        let withVectors = try await store.indexEntries(ids: ["b", "a", "nope"], model: "m1")
        #expect(withVectors.map(\.id) == ["a", "b"])
        #expect(withVectors[0].vector == [0.25, -1, 3.5] && withVectors[1].vector == nil)
        #expect(try await store.indexEntries(ids: ["a"], model: "other")[0].vector == nil)

        _ = try await store.update("a", expectedVersion: 1, change: MemoryChange(importance: 0.9), writer: "t", at: t0)
        #expect(try await store.indexEntries(ids: ["a"], model: "m1")[0].vector == [0.25, -1, 3.5])
        _ = try await store.update("a", expectedVersion: 2, change: MemoryChange(content: "alpha, revised"), writer: "t", at: t0)
        #expect(try await store.indexEntries(ids: ["a"], model: "m1")[0].vector == nil)
        #expect(try await store.countWithoutVector(model: "m1") == 2)
    }

    static func scansPageByIDWithinOwnersAndSlices(_ store: any MemoryStore) async throws {
        for i in 0..<7 { try await store.put(record("a\(i)", "athena", i % 2 == 0 ? .semantic : .episodic, content: "note \(i)")) }
        try await store.put(record("h0", "hestia", .semantic, content: "not athena's"))
        var ids: [String] = []
        var after: IndexEntry?
        while true {
            let page = try await store.indexEntries(owners: ["athena"], slices: nil, model: nil, after: after, limit: 3)
            ids += page.map(\.id)
            guard page.count == 3 else { break }
            after = page.last
        }
        // Canonical order: episodic before semantic, then by creation time and id.
        #expect(ids == ["a1", "a3", "a5", "a0", "a2", "a4", "a6"])
        let semantic = try await store.indexEntries(owners: ["athena", "hestia"], slices: [.semantic], model: nil, after: nil, limit: 100)
        #expect(semantic.map(\.id) == ["a0", "a2", "a4", "a6", "h0"])
        #expect(try await store.records(ids: ["h0", "missing", "a1"]).map(\.id) == ["h0", "a1"])
    }

    static func entriesCarryTheOrderOfFirstWriteAcrossVersions(_ store: any MemoryStore) async throws {
        // Same creation time, written in an order that is not the ids' order.
        for id in ["turn-2", "turn-10", "turn-1"] { try await store.put(record(id, content: "said \(id)")) }
        _ = try await store.update("turn-2", expectedVersion: 1, change: MemoryChange(content: "said it again"), writer: "t", at: t0)
        let entries = try await store.indexEntries(ids: ["turn-1", "turn-2", "turn-10"], model: nil)
        let order = entries.sorted { $0.sequence < $1.sequence }.map(\.id)
        #expect(order == ["turn-2", "turn-10", "turn-1"])
        let scanned = try await store.indexEntries(owners: ["athena"], slices: nil, model: nil, after: nil, limit: 10)
        #expect(Dictionary(uniqueKeysWithValues: scanned.map { ($0.id, $0.sequence) }) == Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.sequence) }))
        #expect(Set(entries.map(\.sequence)).count == 3)
    }
}
