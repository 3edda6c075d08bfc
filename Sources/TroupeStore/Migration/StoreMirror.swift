import Foundation
import TroupeCore

/// Keeps a second store equal to the primary during a live move (`storage.mirror`): the primary
/// alone acknowledges writes; the mirror follows the primary's change feed, record by record,
/// copies the append-only logs (audit, forget receipts, security log) after its last line, and
/// makes its API keys the primary's (a revocation changes a key outside the feed; keys are few).
///
/// Access marks (a record's last access and count, which recall writes outside the change
/// feed) are not mirrored, and comparisons leave them out; so is the formation queue
/// (``MigrationTable/mirrored``).
///
/// Nothing the primary acknowledged can be lost on the way: the mirror's cursor (kept in the
/// mirror itself) moves only after the changes up to it have landed there, so a failed step
/// (the mirror is down, its disk is full) is simply retried from the same place, by this
/// process or the next. A mirror further behind than the primary's feed remembers is
/// reconciled whole.
public actor StoreMirror {
    public nonisolated let primary: any MigrationEndpoint
    public nonisolated let mirror: any MigrationEndpoint
    private var cursorKey: String { "mirror_cursor " + primary.migrationName }
    private var leaseKey: String { "mirror_lease " + primary.migrationName }
    /// The logs copied after the mirror's last line.
    private static let logs: [MigrationTable] = [.forgotten, .audit, .security]

    public init(primary: any MigrationEndpoint, mirror: any MigrationEndpoint) {
        self.primary = primary
        self.mirror = mirror
    }

    /// Brings the mirror up to the primary's latest change; returns how many records it synced.
    /// One catch-up at a time per mirror, in every process that shares it (a lease kept in the
    /// mirror): two at once could each copy a record as they read it and land in the wrong order.
    @discardableResult
    public func catchUp() async throws -> Int {
        if try await isCurrent() { return 0 }
        return try await holdingTheLease { try await self.follow($0) }
    }

    /// Whether the mirror already holds everything (read only, so that an idle follower
    /// writes nothing): its cursor is the primary's latest change, its logs end where the
    /// primary's do and its keys are the primary's.
    private func isCurrent() async throws -> Bool {
        guard let cursor = try await mirror.info(cursorKey).flatMap(Int64.init), try await primary.changeCursor() == cursor else { return false }
        for table in Self.logs {
            guard try await primary.lastMigrationKey(table) == mirror.lastMigrationKey(table) else { return false }
        }
        return try await compare(.keys, repairing: nil).total == 0
    }

    /// Runs `body` under the mirror's lease, handed back however it ends.
    private func holdingTheLease<T: Sendable>(_ body: (MirrorLease) async throws -> T) async throws -> T {
        let lease = MirrorLease(key: leaseKey, store: mirror)
        try await lease.claim()
        do {
            let value = try await body(lease)
            try await lease.release()
            return value
        } catch {
            try? await lease.release()
            throw error
        }
    }

    private func follow(_ lease: MirrorLease) async throws -> Int {
        guard var cursor = try await mirror.info(cursorKey).flatMap(Int64.init) else {
            // A new mirror: made equal whole, then followed from the cursor read before. It must
            // be empty, or a copy of this primary (`troupe migrate` marks one): a mirror pointed
            // at another home's store by mistake is refused, not overwritten.
            if try await mirror.migrationSource() != primary.migrationName {
                for table in MigrationTable.mirrored where try await mirror.migrationCount(table) > 0 {
                    throw TroupeError(
                        .invalidInput, "the mirror holds \(table.rawValue) that are not a copy of \(primary.migrationName); "
                            + "mirror into an empty store, or `troupe migrate` into it first", context: mirror.migrationName)
                }
                try await mirror.setMigrationSource(primary.migrationName)
            }
            let start = try await primary.changeCursor()
            _ = try await compare(repairing: lease)
            try await lease.renew()
            try await mirror.setInfo(cursorKey, String(start))
            return try await follow(lease)
        }
        var synced = 0
        while true {
            let feed = try await primary.changes(since: cursor, limit: 500)
            if feed.mustReload {
                try await mirror.setInfo(cursorKey, "")
                return try await follow(lease)
            }
            try await lease.renew()
            let ids = feed.changed + feed.removed
            try await sync(ids: ids)
            for table in Self.logs { try await appendNew(table) }
            _ = try await compare(.keys, repairing: lease)
            synced += ids.count
            guard feed.cursor != cursor else { return synced }
            cursor = feed.cursor
            try await mirror.setInfo(cursorKey, String(cursor))
        }
    }

    /// How far the mirror has followed: the primary's change it was last caught up to (`nil`
    /// if it was never caught up) and the primary's latest change.
    public func position() async throws -> (mirrored: Int64?, latest: Int64) {
        let mirrored = try await mirroredCursor()
        return (mirrored, try await primary.changeCursor())
    }

    /// The primary's change the mirror was last caught up to; `nil` if it was never caught up.
    public func mirroredCursor() async throws -> Int64? {
        try await mirror.info(cursorKey).flatMap(Int64.init)
    }

    /// Makes the mirror's rows of the records `ids` what the primary's are.
    private func sync(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        for table in [MigrationTable.records, .versions, .lost, .links] {
            let wanted = try await primary.migrationRows(table, ids: ids)
            let held = try await mirror.migrationRows(table, ids: ids)
            let (_, write, remove) = Self.compared(table, wanted: wanted, held: held)
            _ = try await mirror.replaceMigrationRows(table, write, removing: remove)
        }
    }

    /// Copies the lines of an append-only log after the mirror's last one.
    private func appendNew(_ table: MigrationTable) async throws {
        var key = try await mirror.lastMigrationKey(table)
        while true {
            let rows = try await primary.migrationRows(table, after: key, limit: 1000)
            guard let last = rows.last else { return }
            _ = try await mirror.insertMigrationRows(table, rows)
            key = table.key(of: last)
        }
    }

    /// How `held` differs from `wanted`, and what to write and remove to make it equal (each
    /// row digested once).
    static func compared(_ table: MigrationTable, wanted: [MigrationRow], held: [MigrationRow])
        -> (Difference, write: [MigrationRow], remove: [[StoredValue]])
    {
        let heldDigests = Dictionary(held.map { (table.key(of: $0), table.digest(of: $0, accessMarks: false)) }, uniquingKeysWith: { a, _ in a })
        var difference = Difference(table: table)
        var write: [MigrationRow] = []
        var wantedKeys = Set<[StoredValue]>()
        for row in wanted {
            let key = table.key(of: row)
            wantedKeys.insert(key)
            switch heldDigests[key] {
            case nil:
                difference.missing += 1
                write.append(row)
            case let digest? where digest != table.digest(of: row, accessMarks: false):
                difference.differing += 1
                write.append(row)
            default: break
            }
        }
        let remove = heldDigests.keys.filter { !wantedKeys.contains($0) }.sorted { "\($0)" < "\($1)" }
        difference.extra = remove.count
        return (difference, write, remove)
    }

    /// How a reconciliation went, per table: rows the mirror lacked, held differently, or held
    /// that the primary does not.
    public struct Difference: Sendable, Hashable {
        public var table: MigrationTable
        public var missing = 0
        public var differing = 0
        public var extra = 0
        public var total: Int { missing + differing + extra }
    }

    /// Compares both stores whole, table by table; with `repair`, makes the mirror equal.
    public func reconcile(repair: Bool) async throws -> [Difference] {
        guard repair else { return try await compare(repairing: nil) }
        return try await holdingTheLease { try await self.compare(repairing: $0) }
    }

    /// Compares every table, and with a lease held makes the mirror's rows the primary's.
    private func compare(repairing lease: MirrorLease?) async throws -> [Difference] {
        var differences: [Difference] = []
        for table in MigrationTable.mirrored { differences.append(try await compare(table, repairing: lease)) }
        return differences
    }

    /// Compares one table, and with a lease held makes the mirror's rows of it the primary's.
    private func compare(_ table: MigrationTable, repairing lease: MirrorLease?) async throws -> Difference {
        let wanted = try await Self.all(table, of: primary)
        let held = try await Self.all(table, of: mirror)
        // Hashing every row of both stores (vectors included) takes seconds at 100K
        // records: not on the cooperative pool.
        let (difference, write, remove) = try await offThePool("troupe.mirror.compare") {
            Self.compared(table, wanted: wanted, held: held)
        }
        if let lease {
            try await lease.renew()
            for start in stride(from: 0, to: max(write.count, remove.count), by: 1000) {
                _ = try await mirror.replaceMigrationRows(
                    table, Array(write[min(start, write.count)..<min(start + 1000, write.count)]),
                    removing: Array(remove[min(start, remove.count)..<min(start + 1000, remove.count)]))
            }
        }
        return difference
    }

    private static func all(_ table: MigrationTable, of store: any MigrationEndpoint) async throws -> [MigrationRow] {
        var rows: [MigrationRow] = []
        var key: [StoredValue]?
        while true {
            let page = try await store.migrationRows(table, after: key, limit: 2000)
            guard let last = page.last else { return rows }
            rows += page
            key = table.key(of: last)
        }
    }
}
