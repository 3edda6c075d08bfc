import Foundation
import Testing
import TroupeCore
import TroupeStore

/// What the Redis hot tier asks of every store: slice versions, expiry refresh, live working memory.
public enum HotSupportConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("sliceVersionsGrowWithEveryWriteThatChangesRanking", sliceVersionsGrowWithEveryWriteThatChangesRanking),
        ConformanceCheck("expiryExtendsOnlyForwardAndOnlyForWorkingMemory", expiryExtendsOnlyForwardAndOnlyForWorkingMemory),
    ]

    static func sliceVersionsGrowWithEveryWriteThatChangesRanking(_ store: any MemoryStore) async throws {
        func version(_ owner: PersonaID = "athena", _ slice: SliceKind = .semantic) async throws -> Int64 {
            try await store.sliceVersions(owners: [owner], slices: [slice])["\(owner)/\(slice.rawValue)"]!
        }
        #expect(try await version() == 0)
        try await store.put(record("a", content: "alpha"))
        let afterPut = try await version()
        #expect(afterPut > 0)
        _ = try await store.update("a", expectedVersion: 1, change: MemoryChange(content: "alpha two"), writer: "t", at: t0)
        let afterUpdate = try await version()
        #expect(afterUpdate > afterPut)
        _ = try await store.storeVectors([RecordVector(id: "a", version: 2, model: "m", values: [1, 0])])
        let afterVector = try await version()
        #expect(afterVector > afterUpdate)
        // Reads and access marks change nothing ranked.
        try await store.touch(["a"], at: t0)
        _ = try await store.get("a")
        #expect(try await version() == afterVector)
        // Other slices are untouched; forgetting bumps.
        #expect(try await version("athena", .episodic) == 0)
        #expect(try await version("artemis") == 0)
        _ = try await store.forget("a", reason: nil, at: t0)
        #expect(try await version() > afterVector)
    }

    static func expiryExtendsOnlyForwardAndOnlyForWorkingMemory(_ store: any MemoryStore) async throws {
        var working = record("w", "athena", .working, content: "scratch")
        working.expiresAt = t0.addingTimeInterval(60)
        var late = record("late", "athena", .working, content: "later")
        late.expiresAt = t0.addingTimeInterval(7200)
        try await store.put(working)
        try await store.put(late)
        try await store.put(record("s", "athena", .semantic, content: "fact"))
        let moved = try await store.extendExpiry(["w", "late", "s", "missing"], to: t0.addingTimeInterval(3600))
        #expect(moved == 1)
        let refreshed = try await store.get("w")
        #expect(refreshed?.expiresAt == t0.addingTimeInterval(3600) && refreshed?.version == 1)
        #expect(try await store.get("late")?.expiresAt == t0.addingTimeInterval(7200))
        #expect(try await store.get("s")?.expiresAt == nil)
        // Live working memory at a time: expiring after it.
        let live = try await store.query(MemoryQuery(slices: [.working], expiringAfter: t0.addingTimeInterval(5000)))
        #expect(live.map(\.id) == ["late"])
    }
}
