import Foundation
import TroupeCore

/// A ``MemoryStore`` held in memory; for unit tests of logic and as the model the SQLite store is
/// checked against. Its full-text search is plain BM25 over lower-cased words (no stemming).
public actor InMemoryStore: MemoryStore {
    private var state = State()

    public init() {}

    public func put(_ record: MemoryRecord) throws { try state.insert(record, vector: nil) }

    public func get(_ id: String) -> MemoryRecord? { state.current[id] }

    public func update(_ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date) throws -> MemoryRecord {
        guard let old = state.current[id] else { throw TroupeError(.notFound, "no record with this id", context: id) }
        guard old.version == expectedVersion else { throw StoreConflict.error(id: id, current: old.version, expected: expectedVersion) }
        return state.supersede(old, with: change, writer: writer, at: time, vector: nil)
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

    public func upsert(_ batch: [MemoryRecord], writer: String, at time: Date) throws -> UpsertSummary {
        var summary = UpsertSummary()
        for record in batch {
            if let old = state.current[record.id] {
                try StoreConflict.checkSameOwner(old, record)
                if old.hasSameValue(as: record) {
                    summary.unchanged += 1
                } else {
                    _ = try update(record.id, expectedVersion: old.version, change: record.valueChange, writer: writer, at: time)
                    summary.updated += 1
                }
            } else {
                try put(record)
                summary.inserted += 1
            }
        }
        return summary
    }

    public func search(_ text: String, in filter: MemoryQuery, limit: Int) -> [LexicalHit] {
        let terms = LexicalQuery.terms(text)
        guard !terms.isEmpty else { return [] }
        let documents = state.current.values.filter(filter.matches).map { ($0, LexicalQuery.terms($0.content, limit: .max)) }
        return BM25.rank(documents: documents, terms: terms, limit: limit)
            .map { LexicalHit(record: $0.0, bm25: $0.1) }
    }

    public func touch(_ ids: [String], at time: Date) {
        for id in ids {
            state.current[id]?.lastAccessedAt = time
            state.current[id]?.accessCount += 1
        }
    }

    // MARK: IndexSource

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

extension InMemoryStore {
    /// Everything the store holds; a value, so a shared write can run on a copy and be dropped.
    struct State: SharedWriteSteps {
        var current: [String: MemoryRecord] = [:]
        var versions: [String: [MemoryRecord]] = [:]
        var forgotten: [String: ForgetReceipt] = [:]
        /// Vectors by record id: the model and the vector of the record's current version.
        var vectors: [String: (model: String, values: [Float])] = [:]
        /// Every write, in order: the change feed (kept whole; this store is for tests).
        var changeLog: [(id: String, removed: Bool)] = []
        var audit: [AuditEntry] = []
        var lost: [String: [LostValue]] = [:]
        var links: [String: [RecordLink]] = [:]
        /// Per `owner/slice`: bumped by every write that changes what recall ranks there.
        var sliceVersions: [String: Int64] = [:]
        /// The order of first writes, as SQLite's `seq`: the index breaks creation-time ties by it.
        var sequence: [String: Int64] = [:]
        var nextSequence: Int64 = 1

        mutating func bump(_ record: MemoryRecord) { sliceVersions["\(record.owner)/\(record.slice.rawValue)", default: 0] += 1 }

        func current(_ id: String) -> MemoryRecord? { current[id] }

        mutating func insert(_ record: MemoryRecord, vector: EmbeddedVector?) throws {
            guard current[record.id] == nil else {
                throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
            }
            var stored = record
            if let vector {
                vectors[record.id] = (vector.model, vector.values)
                stored.modelID = vector.model
            }
            current[record.id] = stored
            forgotten[record.id] = nil
            sequence[record.id] = nextSequence
            nextSequence += 1
            changeLog.append((record.id, false))
            bump(record)
        }

        mutating func supersede(_ old: MemoryRecord, with change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?)
            -> MemoryRecord
        {
            var next = old.superseded(by: change, writer: writer, at: time)
            var retired = old
            retired.validTo = time
            versions[old.id, default: []].append(retired)
            if next.content != old.content { vectors[old.id] = nil }
            if let vector, change.content != nil {
                vectors[old.id] = (vector.model, vector.values)
                next.modelID = vector.model
            }
            current[old.id] = next
            changeLog.append((old.id, false))
            bump(next)
            return next
        }

        func nextAuditNumber() -> Int64 { Int64(audit.count + 1) }

        mutating func append(_ entry: AuditEntry) { audit.append(entry) }

        mutating func keep(_ value: LostValue) { lost[value.id, default: []].append(value) }

        mutating func link(_ a: String, _ b: String, audit number: Int64, at time: Date) {
            links[a, default: []].append(RecordLink(other: b, audit: number, at: time))
            links[b, default: []].append(RecordLink(other: a, audit: number, at: time))
        }
    }
}

/// Okapi BM25 (k1 = 1.2, b = 0.75, as in SQLite's FTS5) over pre-tokenised documents.
enum BM25 {
    static func rank(documents: [(MemoryRecord, [String])], terms: [String], limit: Int) -> [(MemoryRecord, Double)] {
        let n = Double(documents.count)
        guard n > 0 else { return [] }
        let averageLength = documents.reduce(0.0) { $0 + Double($1.1.count) } / n
        let documentFrequency = Dictionary(uniqueKeysWithValues: terms.map { term in
            (term, Double(documents.filter { $0.1.contains(term) }.count))
        })
        var scored: [(MemoryRecord, Double)] = []
        for (record, words) in documents {
            var score = 0.0
            for term in terms {
                let tf = Double(words.filter { $0 == term }.count)
                guard tf > 0, let df = documentFrequency[term] else { continue }
                let idf = log((n - df + 0.5) / (df + 0.5) + 1)
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * Double(words.count) / max(averageLength, 1)))
            }
            if score > 0 { scored.append((record, score)) }
        }
        scored.sort { ($0.1, $1.0.id) > ($1.1, $0.0.id) }
        return Array(scored.prefix(limit))
    }
}

/// The conflict error both stores throw, so callers can match on it.
enum StoreConflict {
    static func error(id: String, current: Int, expected: Int) -> TroupeError {
        TroupeError(
            .conflict, "record is at version \(current), the update was based on version \(expected)", context: id, currentVersion: current)
    }

    /// An upsert may change a record's value but never move it to another owner or slice.
    static func checkSameOwner(_ old: MemoryRecord, _ new: MemoryRecord) throws {
        guard old.owner == new.owner, old.slice == new.slice else {
            throw TroupeError(
                .invalidInput, "this id belongs to \(old.owner)/\(old.slice.rawValue); it cannot move to \(new.owner)/\(new.slice.rawValue)",
                context: old.id)
        }
    }
}

extension MemoryRecord {
    /// The next version of this record after `change`, written by `writer` at `time`.
    func superseded(by change: MemoryChange, writer: String, at time: Date) -> MemoryRecord {
        var next = self
        if let content = change.content { next.content = content }
        if let importance = change.importance { next.importance = importance }
        if let tags = change.tags { next.tags = tags }
        if let metadata = change.metadata { next.metadata = metadata }
        if let expiresAt = change.expiresAt { next.expiresAt = expiresAt }
        next.version = version + 1
        next.validFrom = time
        next.validTo = nil
        next.source = writer
        if change.content != nil { next.modelID = nil }
        return next
    }

    /// This record's value as a change, for superseding an older version with it.
    var valueChange: MemoryChange {
        MemoryChange(content: content, importance: importance, tags: tags, metadata: .some(metadata), expiresAt: .some(expiresAt))
    }
}
