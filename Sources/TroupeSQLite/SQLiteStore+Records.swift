import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    public func put(_ record: MemoryRecord, vector: EmbeddedVector?) async throws {
        try await write("add a record") { db in
            guard try self.insertIfNew(record, db) else {
                throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
            }
            if let vector { try self.storeVector(seq: db.lastInsertedRowID, vector, db) }
        }
    }

    public func get(_ id: String) async throws -> MemoryRecord? {
        try await read("read a record") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]).flatMap { try self.sealer.readable($0, self.record) }
        }
    }

    public func update(
        _ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?
    ) async throws -> MemoryRecord {
        try await write("update a record") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]) else {
                throw TroupeError(.notFound, "no record with this id", context: id)
            }
            let old = try self.record(row)
            guard old.version == expectedVersion else {
                throw StoreConflict.error(id: id, current: old.version, expected: expectedVersion)
            }
            var next = try self.supersede(old, seq: row["seq"], with: change, writer: writer, at: time, db)
            if let vector, change.content != nil {
                try self.storeVector(seq: row["seq"], vector, db)
                next.modelID = vector.model
            }
            return next
        }
    }

    public func forget(_ id: String, reason: String?, at time: Date) async throws -> ForgetReceipt {
        try await write("forget a record") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]) else {
                throw TroupeError(.notFound, "no record with this id", context: id)
            }
            // Owner and slice as stored: a record sealed with a shredded key is forgotten unread.
            return try self.removeRecord(id, owner: row["owner"], slice: row["slice"], reason: reason, at: time, db)
        }
    }

    /// Removes record `id` with its versions and conflict history, leaving a forget receipt,
    /// in the caller's transaction.
    func removeRecord(_ id: String, owner: String, slice: String, reason: String?, at time: Date, _ db: Database) throws -> ForgetReceipt {
        try db.execute(sql: "DELETE FROM memory WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM memory_version WHERE id = ?", arguments: [id])
        let versions = db.changesCount + 1
        try forgetConflictHistory(of: id, db)
        try db.execute(
            sql: "INSERT INTO forget_log(id, owner, slice, versions, forgotten_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, owner, slice, versions, time.millisecondsSince1970, reason])
        return ForgetReceipt(id: id, owner: owner, slice: slice, versions: versions, forgottenAt: time, reason: reason)
    }

    public func query(_ query: MemoryQuery) async throws -> [MemoryRecord] {
        try await read("query records") { db in
            let afterSQL = query.tag != nil && self.sealer.seals
            var (sql, arguments) = Self.filter(query, prefix: "", sealed: afterSQL)
            if query.order == .canonical, let after = query.after {
                sql.append("(owner, slice, created_at, id) > (?, ?, ?, ?)")
                arguments += [after.owner.rawValue, after.slice.rawValue, after.createdAt.millisecondsSince1970, after.id]
            }
            var text = "SELECT * FROM memory"
            if !sql.isEmpty { text += " WHERE " + sql.joined(separator: " AND ") }
            switch query.order {
            case .newestFirst: text += " ORDER BY created_at DESC, id DESC"
            case .canonical: text += " ORDER BY owner, slice, created_at, id"
            case .expiringLast: text += " ORDER BY expires_at IS NULL, expires_at DESC, created_at DESC, id DESC"
            }
            if let limit = query.limit, !afterSQL { text += " LIMIT \(limit)" }
            let records = try Row.fetchAll(db, sql: text, arguments: StatementArguments(arguments)).compactMap { try self.sealer.readable($0, self.record) }
            return afterSQL ? query.taggedOnly(records) : records
        }
    }

    public func history(_ id: String) async throws -> RecordHistory {
        try await read("read a record's history") { db in
            let old = try Row.fetchAll(db, sql: "SELECT * FROM memory_version WHERE id = ? ORDER BY version", arguments: [id])
            let current = try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id])
            if current == nil, let row = try Row.fetchOne(
                db, sql: "SELECT * FROM forget_log WHERE id = ? ORDER BY seq DESC LIMIT 1", arguments: [id])
            {
                let receipt = ForgetReceipt(
                    id: id, owner: row["owner"], slice: row["slice"], versions: row["versions"],
                    forgottenAt: Date(millisecondsSince1970: row["forgotten_at"]), reason: row["reason"])
                return RecordHistory(versions: [], forgotten: receipt)
            }
            guard let current else { throw TroupeError(.notFound, "no record with this id", context: id) }
            let (lost, links) = try self.conflictHistory(of: id, owner: current["owner"], db)
            return RecordHistory(versions: try (old + [current]).compactMap { try self.sealer.readable($0, self.record) }, forgotten: nil, lost: lost, links: links)
        }
    }

    public func stats() async throws -> StoreStats {
        let stats = try await read("count records") { db in
            let buckets = try Row.fetchAll(
                db, sql: "SELECT owner, slice, COUNT(*) AS n FROM memory GROUP BY owner, slice ORDER BY owner, slice"
            ).compactMap { row -> StoreStats.Bucket? in
                guard let slice = SliceKind(rawValue: row["slice"]) else { return nil }
                return StoreStats.Bucket(owner: row["owner"], slice: slice, count: row["n"])
            }
            return StoreStats(
                buckets: buckets.sorted { ($0.owner, $0.slice) < ($1.owner, $1.slice) },
                supersededVersions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM memory_version") ?? 0,
                forgotten: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM forget_log") ?? 0,
                schemaVersion: try Self.migrator(sealer: self.sealer).appliedIdentifiers(db).sorted().last, bytesOnDisk: nil)
        }
        var result = stats
        result.bytesOnDisk = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
        return result
    }

    public func upsert(_ batch: [MemoryRecord], vectors: [String: EmbeddedVector], writer: String, at time: Date) async throws
        -> UpsertResult
    {
        guard !batch.isEmpty else { return UpsertResult() }
        return try await write("import a batch of \(batch.count) records", weight: max(1, batch.count / 20)) { db in
            var result = UpsertResult()
            for record in batch {
                let vector = vectors[record.id]
                // New ids, the common case, cost one statement; only existing ones are read back.
                if try self.insertIfNew(record, db) {
                    var stored = record
                    if let vector {
                        try self.storeVector(seq: db.lastInsertedRowID, vector, db)
                        stored.modelID = vector.model
                    }
                    result.summary.inserted += 1
                    result.written.append(stored)
                    continue
                }
                guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM memory WHERE id = ?"), arguments: [record.id]) else {
                    throw TroupeError(.storage, "a record vanished inside a transaction", context: record.id)
                }
                guard let old = try self.sealer.readable(row, self.record) else {
                    // Sealed with a shredded key, the record is gone: its remains make way for the new one.
                    _ = try self.removeRecord(record.id, owner: row["owner"], slice: row["slice"], reason: "sealed with a shredded key", at: time, db)
                    guard try self.insertIfNew(record, db) else { throw TroupeError(.storage, "a removed record is still there", context: record.id) }
                    if let vector { try self.storeVector(seq: db.lastInsertedRowID, vector, db) }
                    result.summary.inserted += 1
                    result.written.append(record)
                    continue
                }
                try StoreConflict.checkSameOwner(old, record)
                if old.hasSameValue(as: record) {
                    result.summary.unchanged += 1
                } else {
                    var next = try self.supersede(old, seq: row["seq"], with: record.valueChange, writer: writer, at: time, db)
                    if let vector, next.content != old.content {
                        try self.storeVector(seq: row["seq"], vector, db)
                        next.modelID = vector.model
                    }
                    result.summary.updated += 1
                    result.written.append(next)
                }
            }
            return result
        }
    }
}
