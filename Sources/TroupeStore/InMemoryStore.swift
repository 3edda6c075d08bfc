import Foundation
import TroupeCore

/// A ``MemoryStore`` held in memory; for unit tests of logic and as the model the SQLite store is
/// checked against.
public actor InMemoryStore: RecordStore, SharedSliceStore, IndexSource, HotTierSupport {
    var state = State()
    /// The formation queue, oldest first (InMemoryStore+Formation.swift).
    var formations: [QueuedFormation] = []
    /// API keys, oldest first, and the security log (InMemoryStore+Access.swift).
    var apiKeys: [StoredKey] = []
    var securityLog: [SecurityEvent] = []

    public init() {}

    public func put(_ record: MemoryRecord, vector: EmbeddedVector?) throws { try state.insert(record, vector: vector) }

    public func get(_ id: String) -> MemoryRecord? { state.current[id] }

    public func update(
        _ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?
    ) throws -> MemoryRecord {
        guard let old = state.current[id] else { throw TroupeError(.notFound, "no record with this id", context: id) }
        guard old.version == expectedVersion else { throw StoreConflict.error(id: id, current: old.version, expected: expectedVersion) }
        return state.supersede(old, with: change, writer: writer, at: time, vector: vector)
    }

    public func forget(_ id: String, reason: String?, at time: Date) throws -> ForgetReceipt {
        guard let record = state.current.removeValue(forKey: id) else {
            throw TroupeError(.notFound, "no record with this id", context: id)
        }
        let count = (state.versions.removeValue(forKey: id)?.count ?? 0) + 1
        state.vectors[id] = nil
        state.sequence[id] = nil
        state.lost[id] = nil
        for link in state.links.removeValue(forKey: id) ?? [] { state.links[link.other]?.removeAll { $0.other == id } }
        state.changeLog.append((id, true))
        state.bump(record)
        let receipt = ForgetReceipt(
            id: id, owner: record.owner.rawValue, slice: record.slice.rawValue, versions: count, forgottenAt: time, reason: reason)
        state.forgotten[id] = receipt
        return receipt
    }

    public func writeShared(_ writes: [SharedWrite], priorities: [String: Int], at time: Date) -> [Result<SharedWriteOutcome, TroupeError>] {
        writes.map { write in
            // A failed write leaves nothing behind: it runs on a copy that is kept only on success.
            var attempt = state
            do {
                let outcome = try SharedWriteResolver.apply(write, priorities: priorities, at: time, steps: &attempt)
                state = attempt
                return .success(outcome)
            } catch let error as TroupeError {
                return .failure(error)
            } catch {
                return .failure(TroupeError(.storage, "cannot write a shared record", context: write.id, cause: error))
            }
        }
    }

    public func sliceVersions(owners: [PersonaID], slices: [SliceKind]) -> [String: Int64] {
        var versions: [String: Int64] = [:]
        for owner in owners { for slice in slices { versions["\(owner)/\(slice.rawValue)"] = state.sliceVersions["\(owner)/\(slice.rawValue)"] ?? 0 } }
        return versions
    }

    public func extendExpiry(_ ids: [String], to time: Date) -> Int {
        var moved = 0
        for id in ids {
            guard let record = state.current[id], record.slice == .working, let expiry = record.expiresAt, expiry < time else { continue }
            state.current[id]?.expiresAt = time
            state.changeLog.append((id, false))
            moved += 1
        }
        return moved
    }

    public func audit(_ query: AuditQuery) -> [AuditEntry] {
        let lines = state.audit.reversed().filter { entry in
            (query.slice.map { $0 == entry.slice } ?? true) && (query.record.map { $0 == entry.record } ?? true)
        }
        return Array(lines.prefix(query.limit ?? .max))
    }

    public func query(_ query: MemoryQuery) -> [MemoryRecord] {
        var records = state.current.values.filter(query.matches)
        switch query.order {
        case .newestFirst:
            records.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        case .canonical:
            records.sort(by: MemoryQuery.canonicallyOrdered)
            if let after = query.after { records = records.filter { MemoryQuery.canonicallyOrdered(after, $0) } }
        case .expiringLast:
            let never = Date.distantPast
            records.sort { ($0.expiresAt ?? never, $0.createdAt, $0.id) > ($1.expiresAt ?? never, $1.createdAt, $1.id) }
        }
        if let limit = query.limit { records = Array(records.prefix(limit)) }
        return records
    }

    public func history(_ id: String) throws -> RecordHistory {
        if let receipt = state.forgotten[id] { return RecordHistory(versions: [], forgotten: receipt) }
        guard let record = state.current[id] else { throw TroupeError(.notFound, "no record with this id", context: id) }
        return RecordHistory(
            versions: (state.versions[id] ?? []) + [record], forgotten: nil, lost: state.lost[id] ?? [], links: state.links[id] ?? [])
    }

    public func stats() -> StoreStats {
        var counts: [String: [SliceKind: Int]] = [:]
        for record in state.current.values { counts[record.owner.rawValue, default: [:]][record.slice, default: 0] += 1 }
        let buckets = counts.keys.sorted().flatMap { owner in
            counts[owner]!.keys.sorted().map { StoreStats.Bucket(owner: owner, slice: $0, count: counts[owner]![$0]!) }
        }
        return StoreStats(
            buckets: buckets, supersededVersions: state.versions.values.reduce(0) { $0 + $1.count },
            forgotten: state.forgotten.count, schemaVersion: nil, bytesOnDisk: nil)
    }

    public func upsert(_ batch: [MemoryRecord], vectors: [String: EmbeddedVector], writer: String, at time: Date) throws
        -> UpsertResult
    {
        // All or nothing: the batch runs on a copy that is kept only when every record went in.
        var attempt = state
        var result = UpsertResult()
        for record in batch {
            let vector = vectors[record.id]
            if let old = attempt.current[record.id] {
                try StoreConflict.checkSameOwner(old, record)
                if old.hasSameValue(as: record) {
                    result.summary.unchanged += 1
                } else {
                    let changed = record.content != old.content
                    result.written.append(attempt.supersede(
                        old, with: record.valueChange, writer: writer, at: time, vector: changed ? vector : nil))
                    result.summary.updated += 1
                }
            } else {
                try attempt.insert(record, vector: vector)
                result.written.append(attempt.current[record.id]!)
                result.summary.inserted += 1
            }
        }
        state = attempt
        return result
    }

    public func touch(_ ids: [String], at time: Date) {
        for id in ids {
            state.current[id]?.lastAccessedAt = time
            state.current[id]?.accessCount += 1
        }
    }
}
