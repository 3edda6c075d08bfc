import Foundation
import GRDB
import TroupeCore

/// The durable store: one SQLite file in WAL mode, shared safely by several processes.
///
/// Every write is one short `BEGIN IMMEDIATE` transaction; a writer that finds the database busy
/// waits (busy timeout) instead of failing with "database is locked".
public final class SQLiteStore: MemoryStore {
    /// Where the file lives.
    public let path: String
    let pool: DatabasePool
    let codec: any ContentCodec
    let checkpointer: WALCheckpointer
    let synchronous: Synchronous

    /// Durability of a commit.
    public enum Synchronous: String, Sendable {
        /// fsync on every commit: an acknowledged write survives power loss.
        case full
        /// A commit survives a crashed process but may be lost with power.
        case normal
    }

    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    public init(
        path: String, codec: any ContentCodec = IdentityCodec(), busyTimeout: Double = 10,
        synchronous: Synchronous = .full
    ) throws {
        self.path = path
        self.codec = codec
        self.synchronous = synchronous
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
            // Deleted content is overwritten, so `forget` leaves nothing in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Checkpoints run beside the writer; see WALCheckpointer.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // When the WAL starts over, it is cut back to this size rather than kept at its peak.
            try db.execute(sql: "PRAGMA journal_size_limit = \(8 << 20)")
        }
        checkpointer = WALCheckpointer(path: path, configuration: config)
        pool = try Self.retryingWhileBusy(timeout: busyTimeout) {
            try DatabasePool(path: path, configuration: config)
        }
        // Two processes opening a new file at once must not both create the schema: migrations
        // run under an exclusive advisory lock on a side file.
        let lock = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
        try Self.retryingWhileBusy(timeout: busyTimeout) {
            try Self.migrator(codec: codec).migrate(pool)
            try pool.write { db in
                let stored = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'codec'")
                if let stored, stored != codec.id {
                    throw TroupeError(.storage, "the store was written with codec '\(stored)', not '\(codec.id)'", context: path)
                }
                if stored == nil {
                    try db.execute(sql: "INSERT INTO store_info(key, value) VALUES ('codec', ?)", arguments: [codec.id])
                }
            }
        }
    }

    /// Opening a brand-new file while another process does the same can meet a lock that the busy
    /// handler does not cover (switching to WAL); such an attempt is retried until `timeout`.
    private static func retryingWhileBusy<T>(timeout: Double, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline
            {
                usleep(20_000)
            } catch let error as DatabaseError {
                throw TroupeError(.storage, "cannot open the store", context: error.resultCode == .SQLITE_BUSY ? "busy" : nil, cause: StoreFailure(error))
            }
        }
    }

    // MARK: MemoryStore

    public func put(_ record: MemoryRecord) async throws {
        try await write("add a record") { db in
            var text = FullTextChanges()
            guard try self.insertIfNew(record, &text, db) else {
                throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
            }
            try text.apply(db)
        }
    }

    public func get(_ id: String) async throws -> MemoryRecord? {
        try await read("read a record") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]).map { try self.record($0) }
        }
    }

    public func update(_ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date) async throws -> MemoryRecord {
        try await write("update a record") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]) else {
                throw TroupeError(.notFound, "no record with this id", context: id)
            }
            let old = try self.record(row)
            guard old.version == expectedVersion else {
                throw StoreConflict.error(id: id, current: old.version, expected: expectedVersion)
            }
            var text = FullTextChanges()
            let next = try self.supersede(old, seq: row["seq"], with: change, writer: writer, at: time, &text, db)
            try text.apply(db)
            return next
        }
    }

    public func forget(_ id: String, reason: String?, at time: Date) async throws -> ForgetReceipt {
        try await write("forget a record") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM memory WHERE id = ?", arguments: [id]) else {
                throw TroupeError(.notFound, "no record with this id", context: id)
            }
            let record = try self.record(row)
            try db.execute(sql: "DELETE FROM memory WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM memory_version WHERE id = ?", arguments: [id])
            let versions = db.changesCount + 1
            try self.forgetConflictHistory(of: id, db)
            let receipt = ForgetReceipt(
                id: id, owner: record.owner.rawValue, slice: record.slice.rawValue, versions: versions, forgottenAt: time, reason: reason)
            try db.execute(
                sql: "INSERT INTO forget_log(id, owner, slice, versions, forgotten_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, receipt.owner, receipt.slice, versions, time.millisecondsSince1970, reason])
            var text = FullTextChanges()
            text.remove(seq: row["seq"], record)
            try text.apply(db)
            return receipt
        }
    }

    public func query(_ query: MemoryQuery) async throws -> [MemoryRecord] {
        try await read("query records") { db in
            var (sql, arguments) = Self.filter(query, prefix: "")
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
            if let limit = query.limit { text += " LIMIT \(limit)" }
            return try Row.fetchAll(db, sql: text, arguments: StatementArguments(arguments)).map { try self.record($0) }
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
            let (lost, links) = try self.conflictHistory(of: id, db)
            return RecordHistory(versions: try (old + [current]).map { try self.record($0) }, forgotten: nil, lost: lost, links: links)
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
                schemaVersion: try Self.migrator(codec: self.codec).appliedIdentifiers(db).sorted().last, bytesOnDisk: nil)
        }
        var result = stats
        result.bytesOnDisk = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
        return result
    }

    public func upsert(_ batch: [MemoryRecord], writer: String, at time: Date) async throws -> UpsertSummary {
        guard !batch.isEmpty else { return UpsertSummary() }
        return try await write("import a batch of \(batch.count) records", weight: max(1, batch.count / 20)) { db in
            var summary = UpsertSummary()
            var text = FullTextChanges()
            for record in batch {
                // New ids, the common case, cost one statement; only existing ones are read back.
                if try self.insertIfNew(record, &text, db) {
                    summary.inserted += 1
                    continue
                }
                guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM memory WHERE id = ?"), arguments: [record.id]) else {
                    throw TroupeError(.storage, "a record vanished inside a transaction", context: record.id)
                }
                let old = try self.record(row)
                try StoreConflict.checkSameOwner(old, record)
                if old.hasSameValue(as: record) {
                    summary.unchanged += 1
                } else {
                    _ = try self.supersede(old, seq: row["seq"], with: record.valueChange, writer: writer, at: time, &text, db)
                    summary.updated += 1
                }
            }
            try text.apply(db)
            return summary
        }
    }

    public func search(_ text: String, in filter: MemoryQuery, limit: Int) async throws -> [LexicalHit] {
        let terms = LexicalQuery.terms(text)
        guard limit > 0, let match = LexicalScope.match(terms: terms, owners: filter.owners, slices: filter.slices) else {
            return []
        }
        return try await read("search records") { db in
            // Owner and slice are in the MATCH; the other filters (time, tag) need the record.
            var scoped = filter
            scoped.owners = nil
            scoped.slices = nil
            let (conditions, arguments) = Self.filter(scoped, prefix: "m.")
            let sql: String
            if conditions.isEmpty {
                // Rank in the index alone, then read only the records that made the cut.
                sql = """
                    SELECT m.*, f.rank FROM (SELECT rowid, rank FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank LIMIT \(limit)) f
                    JOIN memory m ON m.seq = f.rowid ORDER BY f.rank
                    """
            } else {
                sql = """
                    SELECT m.*, memory_fts.rank FROM memory_fts JOIN memory m ON m.seq = memory_fts.rowid
                    WHERE memory_fts MATCH ? AND \(conditions.joined(separator: " AND ")) ORDER BY memory_fts.rank LIMIT \(limit)
                    """
            }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments([match] + arguments)).map { row in
                // FTS5's bm25() is negative, lower is better; flip it so that higher is better.
                LexicalHit(record: try self.record(row), bm25: -(row["rank"] as Double))
            }
        }
    }

    public func touch(_ ids: [String], at time: Date) async throws {
        guard !ids.isEmpty else { return }
        do {
            try await pool.writeWithoutTransaction { db in
                // Access marks are bookkeeping on the recall path: committed without an fsync
                // (they survive a crashed process, and may be lost with power), so a recall never
                // waits for the disk. Every other write keeps the configured durability.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(self.synchronous.rawValue.uppercased())") }
                try db.inTransaction(.immediate) {
                    let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                    try db.execute(
                        sql: "UPDATE memory SET last_accessed_at = ?, access_count = access_count + 1 WHERE id IN (\(marks))",
                        arguments: StatementArguments([time.millisecondsSince1970] + ids))
                    return .commit
                }
            }
            checkpointer.noteLightCommit()
        } catch {
            throw TroupeError(.storage, "cannot mark records as used", context: path, cause: StoreFailure(error))
        }
    }

    public func sliceVersions(owners: [PersonaID], slices: [SliceKind]) async throws -> [String: Int64] {
        guard !owners.isEmpty, !slices.isEmpty else { return [:] }
        return try await read("read slice versions") { db in
            let (conditions, arguments) = Self.filter(MemoryQuery(owners: owners, slices: slices), prefix: "")
            var versions: [String: Int64] = [:]
            for owner in owners { for slice in slices { versions["\(owner)/\(slice.rawValue)"] = 0 } }
            for row in try Row.fetchAll(
                db, sql: "SELECT owner, slice, version FROM slice_version WHERE \(conditions.joined(separator: " AND "))",
                arguments: StatementArguments(arguments))
            {
                versions["\(row["owner"] as String)/\(row["slice"] as String)"] = row["version"]
            }
            return versions
        }
    }

    public func extendExpiry(_ ids: [String], to time: Date) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        do {
            let moved = try await pool.writeWithoutTransaction { db in
                // Bookkeeping on the read path, committed like `touch`: without an fsync.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(self.synchronous.rawValue.uppercased())") }
                var moved = 0
                try db.inTransaction(.immediate) {
                    for chunk in ids.chunked(500) {
                        let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                        try db.execute(
                            sql: "UPDATE memory SET expires_at = ? WHERE slice = 'working' AND expires_at < ? AND id IN (\(marks))",
                            arguments: StatementArguments([time.millisecondsSince1970, time.millisecondsSince1970] + chunk.map { $0 }))
                        moved += db.changesCount
                    }
                    return .commit
                }
                return moved
            }
            checkpointer.noteLightCommit()
            return moved
        } catch {
            throw TroupeError(.storage, "cannot refresh working memory", context: path, cause: StoreFailure(error))
        }
    }

    // MARK: Maintenance

    /// `PRAGMA integrity_check` plus the full-text index's own check; empty when all is well.
    public func integrityProblems() async throws -> [String] {
        try await pool.write { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            do {
                try db.execute(sql: "INSERT INTO memory_fts(memory_fts) VALUES ('integrity-check')")
            } catch {
                problems.append("full-text index: \(StoreFailure(error))")
            }
            // Every record is indexed once, and nothing else is: a record and its index entry
            // are written in one transaction, so a crash leaves both or neither.
            let unindexed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM memory WHERE seq NOT IN (SELECT id FROM memory_fts_docsize)") ?? 0
            let orphans = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM memory_fts_docsize WHERE id NOT IN (SELECT seq FROM memory)") ?? 0
            if unindexed > 0 { problems.append("\(unindexed) records missing from the full-text index") }
            if orphans > 0 { problems.append("\(orphans) full-text entries without a record") }
            return problems
        }
    }
}
