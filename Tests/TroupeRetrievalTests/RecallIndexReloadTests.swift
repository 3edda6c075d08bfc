import Foundation
import Testing
import TroupeCore
@testable import TroupeRetrieval
import TroupeStore

/// A store whose change feed says "reload" whenever asked to, and whose scans are slow: the
/// reload of a store that trimmed its change log, with a wide window for a search to run into.
final class ReloadingSource: IndexSource, Sendable {
    let store: InMemoryStore
    /// The store's scans (seconds of sorting in a debug build), off the pool.
    private let scans: OffThePoolSource
    private let forceReload = LockedBox(false)

    init(_ store: InMemoryStore) {
        self.store = store
        scans = OffThePoolSource(store)
    }

    func reloadNext() { forceReload.withLock { $0 = true } }

    func changeCursor() async throws -> Int64 { await store.changeCursor() }

    func changes(since cursor: Int64, limit: Int) async throws -> ChangeFeed {
        let reload = forceReload.withLock { forceReload in
            defer { forceReload = false }
            return forceReload
        }
        if reload { return ChangeFeed(cursor: await store.changeCursor(), mustReload: true) }
        return await store.changes(since: cursor, limit: limit)
    }

    func indexEntries(owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int) async throws -> [IndexEntry] {
        try await Task.sleep(for: .milliseconds(2))
        return try await scans.indexEntries(owners: owners, slices: slices, model: model, after: after, limit: limit)
    }

    func indexEntries(ids: [String], model: String?) async throws -> [IndexEntry] { await store.indexEntries(ids: ids, model: model) }
    func countWithoutVector(model: String) async throws -> Int { await store.countWithoutVector(model: model) }
    func entriesWithoutVector(model: String, after afterID: String?, limit: Int) async throws -> [IndexEntry] {
        await store.entriesWithoutVector(model: model, after: afterID, limit: limit)
    }
    func storeVectors(_ vectors: [RecordVector]) async throws -> Int { await store.storeVectors(vectors) }
}

@Suite("Recall index reload")
struct RecallIndexReloadTests {
    @Test func searchesDuringForcedReloadsAlwaysSeeEveryRecord() async throws {
        let store = InMemoryStore()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        // Two owners, several pages each; the word searched for is in every record, so a search
        // over a partly loaded index finds fewer than all of them.
        let owners: [PersonaID] = ["athena", "hestia"]
        var batch: [MemoryRecord] = []
        for owner in owners {
            for i in 0..<2100 {
                batch.append(MemoryRecord(
                    id: "\(owner)-\(i)", owner: owner, slice: .semantic, content: "needle \(i) in the \(owner) haystack", source: "t",
                    createdAt: t0.addingTimeInterval(Double(i))))
            }
        }
        _ = try await store.upsert(batch, writer: "t", at: t0)
        let source = ReloadingSource(store)
        let index = RecallIndex(source: source, model: nil, dimension: 4)
        let query = IndexQuery(terms: LexicalTokenizer.tokens("needle"), vector: nil, owners: owners, slices: [.semantic], candidates: 4200)
        #expect(try await index.search([query])[0].count == 4200)

        let counts = try await withThrowingTaskGroup(of: [Int].self) { group in
            group.addTask {
                for _ in 0..<6 {
                    source.reloadNext()
                    _ = try await index.search([query])
                }
                return []
            }
            for _ in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<12 {
                        seen.append(try await index.search([query])[0].count)
                        await Task.yield()
                    }
                    return seen
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(await index.reloads >= 6)
        #expect(counts.allSatisfy { $0 == 4200 }, "some searches saw a partial index: \(Set(counts).sorted())")
    }
}
