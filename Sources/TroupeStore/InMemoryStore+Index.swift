import Foundation
import TroupeCore

/// The change feed and the index loads of the in-memory store.
extension InMemoryStore {
    public func changeCursor() -> Int64 { Int64(state.changeLog.count) }

    public func changes(since cursor: Int64, limit: Int) -> ChangeFeed {
        let start = Int(max(0, cursor))
        let end = min(state.changeLog.count, start + limit)
        guard start < end else { return ChangeFeed(cursor: max(cursor, Int64(state.changeLog.count))) }
        var last: [String: Bool] = [:]
        for change in state.changeLog[start..<end] { last[change.id] = change.removed }
        let sorted = last.sorted { $0.key < $1.key }
        return ChangeFeed(
            cursor: Int64(end), changed: sorted.filter { !$0.value }.map(\.key), removed: sorted.filter(\.value).map(\.key))
    }

    public func indexEntries(
        owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int
    ) -> [IndexEntry] {
        let filter = MemoryQuery(owners: owners, slices: slices)
        return state.current.values.filter(filter.matches).map { entry($0, model: model) }
            .filter { entry in after.map { IndexEntry.canonicallyOrdered($0, entry) } ?? true }
            .sorted(by: IndexEntry.canonicallyOrdered).prefix(limit).map { $0 }
    }

    public func indexEntries(ids: [String], model: String?) -> [IndexEntry] {
        Set(ids).sorted().compactMap { state.current[$0] }.map { entry($0, model: model) }
    }

    public func countWithoutVector(model: String) -> Int {
        state.current.values.filter { state.vectors[$0.id]?.model != model }.count
    }

    public func entriesWithoutVector(model: String, after afterID: String?, limit: Int) -> [IndexEntry] {
        state.current.values.filter { state.vectors[$0.id]?.model != model && $0.id > (afterID ?? "") }.sorted { $0.id < $1.id }
            .prefix(limit).map { entry($0, model: nil) }
    }

    public func storeVectors(_ batch: [RecordVector]) -> Int {
        var stored = 0
        for vector in batch where state.current[vector.id]?.version == vector.version {
            state.vectors[vector.id] = (vector.model, vector.values)
            state.current[vector.id]?.modelID = vector.model
            state.changeLog.append((vector.id, false))
            state.bump(state.current[vector.id]!)
            stored += 1
        }
        return stored
    }

    public func records(ids: [String]) -> [MemoryRecord] { ids.compactMap { state.current[$0] } }

    private func entry(_ record: MemoryRecord, model: String?) -> IndexEntry {
        let stored = state.vectors[record.id]
        return IndexEntry(record, vector: stored?.model == model ? stored?.values : nil, sequence: state.sequence[record.id] ?? 0)
    }
}
