import Foundation
import TroupeCore

// The storage contract: a few small protocols that together make a ``MemoryStore``. The SQLite
// store meets them today; a PostgreSQL store meets the same ones (and runs the same conformance
// suites, in TroupeStoreConformance). Every write returns only after it is committed, and
// every method that writes a record writes its vector in the same transaction.

/// Records: put, get, query, history, forget, and batches for import.
public protocol RecordStore: Sendable {
    /// Inserts a new record and its vector (when given) in one transaction. Throws `.duplicate`
    /// when the id exists.
    func put(_ record: MemoryRecord, vector: EmbeddedVector?) async throws

    /// The current version of a record, or `nil`.
    func get(_ id: String) async throws -> MemoryRecord?

    /// Current records by id, in the order asked, missing ones left out.
    func records(ids: [String]) async throws -> [MemoryRecord]

    /// Supersedes the record with a new version, if `expectedVersion` is still current; else
    /// throws `.conflict` naming the current version. The old version stays in the history. A
    /// `vector` (of the new content) is stored in the same transaction.
    func update(
        _ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?
    ) async throws -> MemoryRecord

    /// Writes a batch in one transaction: new ids are inserted, changed records superseded,
    /// identical ones left alone; `vectors` (by record id, of the batch's content) are stored
    /// with the records they belong to. The whole batch lands or none of it does.
    func upsert(_ batch: [MemoryRecord], vectors: [String: EmbeddedVector], writer: String, at time: Date) async throws
        -> UpsertResult

    /// Removes a record and all its versions for good; keeps an audit line without the content.
    func forget(_ id: String, reason: String?, at time: Date) async throws -> ForgetReceipt

    /// Current records matching `query`.
    func query(_ query: MemoryQuery) async throws -> [MemoryRecord]

    /// Every version of a record, oldest first, or the audit line left by `forget`.
    func history(_ id: String) async throws -> RecordHistory

    /// Counts and sizes.
    func stats() async throws -> StoreStats

    /// Marks records as used now (last access time and access count; an id given n times is n
    /// uses, so counts do not depend on how recalls were batched). Bookkeeping: no new version,
    /// no change in the feed.
    func touch(_ ids: [String], at time: Date) async throws
}

/// Writes to shared slices, resolved by their policies, and the audit log of stale ones.
///
/// **Audit numbering.** Audit lines are numbered 1, 2, 3, … without gaps, in commit order: a
/// line's number is assigned inside the transaction that writes it, while that transaction
/// holds the store's write serialisation (SQLite: its single writer; PostgreSQL: a row lock
/// on a counter taken first in the writing transaction), so no two lines share a number and a
/// reader that sees line N sees every line before it.
public protocol SharedSliceStore: Sendable {
    /// Writes to records of shared slices, in order, in one transaction (a group commit). A
    /// write based on the current version applies; a stale one is resolved by its policy and
    /// audited, and a value that does not stay current is kept in the record's history. The
    /// check and the write are one transaction, so writers in other processes obey the policy
    /// too. One result per write: a write that cannot apply (an unknown id, another slice's
    /// record) fails alone; a storage failure fails them all, and none is written.
    func writeShared(_ writes: [SharedWrite], priorities: [String: Int], at time: Date) async throws
        -> [Result<SharedWriteOutcome, TroupeError>]

    /// Audit lines of stale shared writes, newest first.
    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
}

/// The change feed: how in-memory indexes and the hot tier follow every writer.
///
/// **Contract.** Every committed change to a current record (insert, new version, new vector,
/// expiry moved, removal) gets a number when it commits. Numbers grow in commit order: a reader
/// that has seen change N has seen every change committed before N, so a cursor never skips a
/// change that commits later with a smaller number. (SQLite meets this with its single writer;
/// a PostgreSQL store must assign the number under a lock held until commit, or hand out only
/// numbers below the oldest transaction still in flight.) A store may forget old changes; a
/// reader whose cursor is older than what is kept is told to reload (`mustReload`).
public protocol ChangeFeedSource: Sendable {
    /// The number of the latest change; an index loaded after reading it misses nothing later.
    func changeCursor() async throws -> Int64

    /// Changes after `cursor`, at most `limit` of them (call again while `cursor` moves).
    func changes(since cursor: Int64, limit: Int) async throws -> ChangeFeed
}

/// What in-memory indexes load: records in canonical order with their vectors, and the vectors
/// still to compute.
public protocol IndexSource: ChangeFeedSource {
    /// Current records of `owners` (and `slices`) in canonical order (owner, slice, creation
    /// time, id), after `after`, at most `limit`; with the vectors of `model`.
    func indexEntries(owners: [PersonaID], slices: [SliceKind]?, model: String?, after: IndexEntry?, limit: Int)
        async throws -> [IndexEntry]

    /// The current records among `ids` (missing ones are left out), with the vectors of `model`.
    func indexEntries(ids: [String], model: String?) async throws -> [IndexEntry]

    /// How many current records have no vector of `model`.
    func countWithoutVector(model: String) async throws -> Int

    /// Current records that have no vector of `model`, by id after `afterID`, at most `limit`.
    func entriesWithoutVector(model: String, after afterID: String?, limit: Int) async throws -> [IndexEntry]

    /// Stores vectors in one transaction; a vector whose record moved past its version (or is
    /// gone) is skipped. Returns how many were stored.
    func storeVectors(_ vectors: [RecordVector]) async throws -> Int
}

/// What the Redis hot tier needs of the durable store besides records.
public protocol HotTierSupport: Sendable {
    /// For each owner and slice asked for, a number that grows with every write that changes
    /// what recall ranks there (by any process); keyed `owner/slice`, 0 for an empty slice.
    func sliceVersions(owners: [PersonaID], slices: [SliceKind]) async throws -> [String: Int64]

    /// Moves the expiry of the working memories among `ids` that expire before `time` to
    /// `time` (a read refreshes working memory). Bookkeeping like ``RecordStore/touch(_:at:)``:
    /// no new version. Returns how many moved.
    func extendExpiry(_ ids: [String], to time: Date) async throws -> Int
}

/// A whole store: every part of the contract (the formation queue's is in FormationQueueStore.swift,
/// API keys' and the security log's in AccessStore.swift).
public typealias MemoryStore = RecordStore & SharedSliceStore & IndexSource & HotTierSupport & FormationQueueStore & AccessStore

/// What an upsert wrote: counts, and the records now current that it inserted or changed (for
/// the hot tier and the index).
public struct UpsertResult: Sendable, Hashable {
    public var summary: UpsertSummary
    public var written: [MemoryRecord]

    public init(summary: UpsertSummary = UpsertSummary(), written: [MemoryRecord] = []) {
        self.summary = summary
        self.written = written
    }
}

extension RecordStore {
    /// Inserts a record without a vector.
    public func put(_ record: MemoryRecord) async throws { try await put(record, vector: nil) }

    /// Supersedes a record without storing a vector (its old one no longer counts).
    public func update(_ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date) async throws
        -> MemoryRecord
    {
        try await update(id, expectedVersion: expectedVersion, change: change, writer: writer, at: time, vector: nil)
    }

    /// Upserts a batch without vectors; the counts only.
    public func upsert(_ batch: [MemoryRecord], writer: String, at time: Date) async throws -> UpsertSummary {
        try await upsert(batch, vectors: [:], writer: writer, at: time).summary
    }
}
