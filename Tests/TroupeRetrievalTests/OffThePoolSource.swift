import TroupeCore
import TroupeStore

/// An in-memory store as an index source whose calls run on a thread of the suite's own. The
/// store is a default actor: it runs on whichever thread calls it while it is idle, or where the
/// calling task prefers. The recall index loads in a task of its own, which prefers nothing, so
/// loading tens of thousands of rows (seconds of sorting in a debug build) would otherwise run
/// on the cooperative pool. Here each call starts on `scans` (this actor's executor) and goes on
/// with `scans` as the task's preference, so the store runs there either way.
actor OffThePoolSource: IndexSource {
    static let scans = ThreadExecutor(name: "troupe-test.scans")
    nonisolated var unownedExecutor: UnownedSerialExecutor { Self.scans.asUnownedSerialExecutor() }
    let store: InMemoryStore

    init(_ store: InMemoryStore) { self.store = store }

    func changeCursor() async throws -> Int64 {
        await withTaskExecutorPreference(Self.scans) { await store.changeCursor() }
    }

    func changes(since cursor: Int64, limit: Int) async throws -> ChangeFeed {
        await withTaskExecutorPreference(Self.scans) { await store.changes(since: cursor, limit: limit) }
    }

    func indexEntries(owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int) async throws -> [IndexEntry] {
        await withTaskExecutorPreference(Self.scans) { await store.indexEntries(owners: owners, slices: slices, model: model, after: after, limit: limit) }
    }

    func indexEntries(ids: [String], model: String?) async throws -> [IndexEntry] {
        await withTaskExecutorPreference(Self.scans) { await store.indexEntries(ids: ids, model: model) }
    }

    func countWithoutVector(model: String) async throws -> Int {
        await withTaskExecutorPreference(Self.scans) { await store.countWithoutVector(model: model) }
    }

    func entriesWithoutVector(model: String, after afterID: String?, limit: Int) async throws -> [IndexEntry] {
        await withTaskExecutorPreference(Self.scans) { await store.entriesWithoutVector(model: model, after: afterID, limit: limit) }
    }

    func storeVectors(_ vectors: [RecordVector]) async throws -> Int {
        await withTaskExecutorPreference(Self.scans) { await store.storeVectors(vectors) }
    }
}
