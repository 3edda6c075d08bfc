import Foundation
import TroupeCore
import TroupeRedis
import TroupeRetrieval
import TroupeStore

/// The one write path: every change to memory — a persona's add, update and forget, a shared
/// write, the operator's forget, import, procedural seeds, re-embedding — goes through here.
///
/// A record and its vector are committed in one transaction (the text is embedded first, so a
/// broken model fails the write before anything is stored); once the store has committed,
/// ``committed(_:removed:)`` tells the hot tier, the recall index and the event subscribers, in
/// that one place.
/// Acknowledged means committed: Redis and the index follow, or catch up from the change feed.
package struct MemoryWrites: Sendable {
    package let store: any MemoryStore
    let index: RecallIndex?
    /// The embedder, loaded on first use (`nil` when there is none).
    let embedding: @Sendable () async throws -> EmbeddingQueue?
    /// The hot tier, made on first use (`nil` when Redis is off).
    let hot: @Sendable () async -> HotTier?
    package let clock: any WallClock
    package let ids: any IDGenerator
    /// Where every commit is made known as events (MemoryEvents.swift).
    package let events: MemoryEventHub

    package init(
        store: any MemoryStore, index: RecallIndex?, embedding: @escaping @Sendable () async throws -> EmbeddingQueue?,
        hot: @escaping @Sendable () async -> HotTier?, clock: any WallClock, ids: any IDGenerator, events: MemoryEventHub = MemoryEventHub()
    ) {
        self.events = events
        self.store = store
        self.index = index
        self.embedding = embedding
        self.hot = hot
        self.clock = clock
        self.ids = ids
    }

    // MARK: Embedding

    /// The vector of each text by the configured embedder, or `nil`s when there is none.
    func embed(_ texts: [String]) async throws -> [EmbeddedVector?] {
        guard !texts.isEmpty, let queue = try await embedding() else { return texts.map { _ in nil } }
        return try await queue.embed(texts).map { EmbeddedVector(model: queue.modelID, values: $0) }
    }

    func embed(_ text: String) async throws -> EmbeddedVector? { try await embed([text])[0] }

    // MARK: Writes

    /// Stores a new record with its vector.
    func add(_ record: MemoryRecord) async throws -> MemoryRecord {
        let vector = try await embed(record.content)
        var stored = Self.flagged(record)
        stored.modelID = vector?.model
        try await store.put(stored, vector: vector)
        await committed([(stored, vector)])
        return stored
    }

    /// Stores new records with their vectors: embedded in one batch, committed in one
    /// transaction (one fsync), made known once. For what a turn writes.
    func add(_ records: [MemoryRecord], writer: String) async throws -> [MemoryRecord] {
        let flagged = records.map(Self.flagged)
        let vectors = try await embed(flagged.map(\.content))
        var byID: [String: EmbeddedVector] = [:]
        for (record, vector) in zip(flagged, vectors) { byID[record.id] = vector }
        let result = try await store.upsert(flagged, vectors: byID.compactMapValues { $0 }, writer: writer, at: clock.now())
        await committed(result.written.map { ($0, byID[$0.id] ?? nil) })
        return result.written
    }

    /// Writes a new version of a record based on version `base`.
    func update(_ id: String, basedOn base: Int, change: MemoryChange, writer: String) async throws -> MemoryRecord {
        let change = try await flagged(change, of: id)
        var vector: EmbeddedVector?
        if let content = change.content { vector = try await embed(content) }
        let next = try await store.update(id, expectedVersion: base, change: change, writer: writer, at: clock.now(), vector: vector)
        await committed([(next, vector)])
        return next
    }

    /// Commits shared writes in one transaction (their vectors are in the writes), then tells
    /// the hot tier and the index what became current.
    func shared(_ writes: [SharedWrite], priorities: [String: Int]) async throws -> [Result<SharedWriteOutcome, TroupeError>] {
        var writes = writes
        for index in writes.indices { writes[index].change = try await flagged(writes[index].change, of: writes[index].id) }
        let results = try await store.writeShared(writes, priorities: priorities, at: clock.now())
        var written: [(MemoryRecord, EmbeddedVector?)] = []
        var resolved: [MemoryEvent] = []
        for (write, result) in zip(writes, results) {
            guard case .success(let outcome) = result else { continue }
            if outcome.audit != nil {
                RuntimeMetrics.conflict(policy: write.policy, outcome: outcome.kind)
                resolved.append(MemoryEvent(
                    kind: .conflictResolved, id: outcome.current.id, owner: outcome.current.owner.rawValue, slice: outcome.current.slice,
                    version: outcome.current.version, at: clock.now(), detail: "\(write.policy.rawValue): \(outcome.kind.rawValue)"))
            }
            let vector = write.change.content != nil ? write.vector : nil
            switch outcome.kind {
            case .applied, .overwrote: written.append((outcome.current, vector))
            case .keptBoth: if let sibling = outcome.sibling { written.append((sibling, write.vector)) }
            case .keptCurrent, .rejected: break
            }
        }
        await committed(written)
        events.publish(resolved)
        return results
    }

    /// Forgets `record` (read by the caller, who checked it may) and all its versions.
    func forget(_ record: MemoryRecord, reason: String?) async throws -> ForgetReceipt {
        let receipt = try await store.forget(record.id, reason: reason, at: clock.now())
        await committed([], removed: [record])
        return receipt
    }

    /// Upserts a batch (import, seeds): new and changed records are embedded first (unless
    /// `embedding` is false) and committed with their vectors in one transaction.
    func upsert(_ batch: [MemoryRecord], writer: String, embedding: Bool = true) async throws -> UpsertSummary {
        let batch = batch.map(Self.flagged)
        var vectors: [String: EmbeddedVector] = [:]
        if embedding, try await self.embedding() != nil {
            // Only what the store does not hold as it is: a re-import embeds nothing.
            let held = Dictionary(try await store.records(ids: batch.map(\.id)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let fresh = batch.filter { record in held[record.id].map { $0.content != record.content || $0.modelID == nil } ?? true }
            for (record, vector) in zip(fresh, try await embed(fresh.map(\.content))) { vectors[record.id] = vector }
        }
        let result = try await store.upsert(batch, vectors: vectors, writer: writer, at: clock.now())
        await committed(result.written.map { ($0, vectors[$0.id]) })
        return result.summary
    }

    /// Told of vectors a backfill stored: the index and hot tier follow their records.
    func vectorsStored(_ vectors: [RecordVector]) async {
        guard let records = try? await store.records(ids: vectors.map(\.id)) else { return }
        let byID = Dictionary(vectors.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        await committed(records.compactMap { record in
            byID[record.id].flatMap { $0.version == record.version ? (record, EmbeddedVector(model: $0.model, values: $0.values)) : nil }
        })
    }

    /// `record` with the tag of text that reads like an instruction, when its content does.
    static func flagged(_ record: MemoryRecord) -> MemoryRecord {
        guard InstructionLikeText.reason(record.content) != nil, !record.tags.contains(InstructionLikeText.tag) else { return record }
        var flagged = record
        flagged.tags = flaggedTags(record.tags)
        return flagged
    }

    /// `change` with the tag of text that reads like an instruction, when its new content does.
    /// A change that leaves the tags alone keeps the record's own, flag added.
    func flagged(_ change: MemoryChange, of id: String?) async throws -> MemoryChange {
        guard let content = change.content, InstructionLikeText.reason(content) != nil else { return change }
        var change = change
        let tags: [String]
        if let given = change.tags {
            tags = given
        } else if let id {
            tags = try await store.records(ids: [id]).first?.tags ?? []
        } else {
            tags = []
        }
        change.tags = Self.flaggedTags(tags)
        return change
    }

    static func flaggedTags(_ tags: [String]) -> [String] {
        tags.contains(InstructionLikeText.tag) ? tags : tags + [InstructionLikeText.tag]
    }

    /// The one place a commit is made known: write-through to Redis, then the recall index,
    /// then the events.
    func committed(_ records: [(MemoryRecord, EmbeddedVector?)], removed: [MemoryRecord] = []) async {
        RuntimeMetrics.committed(records.map(\.0), removed: removed)
        defer {
            let now = clock.now()
            events.publish(records.map { MemoryEvent(committed: $0.0, at: now) } + removed.map {
                MemoryEvent(kind: .forgotten, id: $0.id, owner: $0.owner.rawValue, slice: $0.slice, version: $0.version, at: now)
            })
        }
        if let hot = await hot() {
            if !records.isEmpty { await hot.didWrite(records.map(\.0)) }
            for record in removed { await hot.didForget(record) }
        }
        await index?.didCommit(
            records.map { IndexEntry($0.0, vector: $0.1.flatMap { $0.model == index?.model ? $0.values : nil }) },
            removed: removed.map(\.id))
    }
}
