import Foundation
import TroupeCore

/// Which current records a query selects, in which order.
public struct MemoryQuery: Sendable, Hashable {
    public enum Order: Sendable, Hashable {
        /// Newest first by creation time.
        case newestFirst
        /// By owner, slice, creation time and id: the export order, stable across runs.
        case canonical
        /// Latest expiry first (working memory: the most recently written or refreshed), then
        /// newest first; records without an expiry last.
        case expiringLast
    }

    public var owners: [PersonaID]?
    public var slices: [SliceKind]?
    public var createdAfter: Date?
    public var createdBefore: Date?
    /// Records that expire after this time (working memory still live then); records without
    /// an expiry are left out.
    public var expiringAfter: Date?
    /// Records carrying this tag.
    public var tag: String?
    public var order: Order
    public var limit: Int?
    /// For paging in canonical order: only records after this one.
    public var after: MemoryRecord?

    public init(
        owners: [PersonaID]? = nil, slices: [SliceKind]? = nil, createdAfter: Date? = nil,
        createdBefore: Date? = nil, tag: String? = nil, order: Order = .newestFirst, limit: Int? = nil,
        after: MemoryRecord? = nil, expiringAfter: Date? = nil
    ) {
        self.expiringAfter = expiringAfter
        self.owners = owners
        self.slices = slices
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.tag = tag
        self.order = order
        self.limit = limit
        self.after = after
    }

    /// Whether `record` is selected (ignoring order, limit and paging).
    public func matches(_ record: MemoryRecord) -> Bool {
        if let owners, !owners.contains(record.owner) { return false }
        if let slices, !slices.contains(record.slice) { return false }
        if let createdAfter, record.createdAt <= createdAfter { return false }
        if let createdBefore, record.createdAt >= createdBefore { return false }
        if let expiringAfter, (record.expiresAt ?? .distantPast) <= expiringAfter { return false }
        if let tag, !record.tags.contains(tag) { return false }
        return true
    }

    /// Those of `records` (in the query's order, from a store that could not filter on the tag)
    /// that carry its tag, at most its limit.
    public func taggedOnly(_ records: [MemoryRecord]) -> [MemoryRecord] {
        let tagged = records.filter { tag.map($0.tags.contains) ?? true }
        return limit.map { Array(tagged.prefix(max(0, $0))) } ?? tagged
    }

    /// The canonical order, as a sort predicate.
    public static func canonicallyOrdered(_ a: MemoryRecord, _ b: MemoryRecord) -> Bool {
        (a.owner.rawValue, a.slice.rawValue, a.createdAt, a.id) < (b.owner.rawValue, b.slice.rawValue, b.createdAt, b.id)
    }
}

/// What `forget` removed; the record's audit line, without its content.
public struct ForgetReceipt: Sendable, Hashable, Codable {
    public var id: String
    public var owner: String
    public var slice: String
    /// How many versions were removed.
    public var versions: Int
    public var forgottenAt: Date
    public var reason: String?

    package init(id: String, owner: String, slice: String, versions: Int, forgottenAt: Date, reason: String?) {
        (self.id, self.owner, self.slice, self.versions, self.forgottenAt, self.reason) = (id, owner, slice, versions, forgottenAt, reason)
    }
}

/// A record's versions, or what is left after it was forgotten.
public struct RecordHistory: Sendable, Hashable {
    /// Oldest first; the last one is current unless the record was forgotten.
    public var versions: [MemoryRecord]
    public var forgotten: ForgetReceipt?
    /// Values written to the record that never became current (a conflict lost or rejected),
    /// oldest first.
    public var lost: [LostValue]
    /// Records kept beside this one after conflicts (`keep-both`).
    public var links: [RecordLink]

    public init(versions: [MemoryRecord], forgotten: ForgetReceipt?, lost: [LostValue] = [], links: [RecordLink] = []) {
        self.versions = versions
        self.forgotten = forgotten
        self.lost = lost
        self.links = links
    }
}

/// What an upsert did.
public struct UpsertSummary: Sendable, Hashable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0

    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }

    public static func + (a: UpsertSummary, b: UpsertSummary) -> UpsertSummary {
        UpsertSummary(inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged)
    }
}

/// Counts per owner and slice, and what the store holds on disk.
public struct StoreStats: Sendable, Hashable {
    public struct Bucket: Sendable, Hashable {
        public var owner: String
        public var slice: SliceKind
        public var count: Int

        package init(owner: String, slice: SliceKind, count: Int) {
            (self.owner, self.slice, self.count) = (owner, slice, count)
        }
    }
    /// Current records per owner and slice, in owner then slice order.
    public var buckets: [Bucket]
    /// Superseded versions kept as history.
    public var supersededVersions: Int
    /// Audit lines left by `forget`.
    public var forgotten: Int
    /// The schema version (the last migration applied), if the store has one.
    public var schemaVersion: String?
    /// Bytes on disk (database and its WAL), if the store has a file.
    public var bytesOnDisk: Int64?

    package init(buckets: [Bucket], supersededVersions: Int, forgotten: Int, schemaVersion: String?, bytesOnDisk: Int64?) {
        (self.buckets, self.supersededVersions, self.forgotten) = (buckets, supersededVersions, forgotten)
        (self.schemaVersion, self.bytesOnDisk) = (schemaVersion, bytesOnDisk)
    }

    public var total: Int { buckets.reduce(0) { $0 + $1.count } }
}
