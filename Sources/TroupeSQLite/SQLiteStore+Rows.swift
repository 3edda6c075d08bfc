import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// A SQLite failure, named by its result code and SQLite's message; never the SQL arguments,
/// which may hold a user's content.
struct StoreFailure: CustomStringConvertible, Error {
    let text: String

    init(_ error: any Error) {
        if let error = error as? DatabaseError {
            let code = error.extendedResultCode
            var text = "SQLite error \(code.rawValue): \(error.message ?? "unknown")"
            if error.resultCode == .SQLITE_FULL { text += " — the disk is full" }
            self.text = text
        } else {
            self.text = String(describing: error)
        }
    }

    var description: String { text }

    /// Why a write failed when the disk is full, as `disk full (N free on …)`, else `nil`.
    /// SQLite says "disk I/O error" as often as "database or disk is full" when it runs out of
    /// space writing the WAL, so the file system is asked.
    static func diskFull(_ error: any Error, path: String) -> String? {
        guard let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_IOERR else { return nil }
        var info = statvfs()
        let directory = (path as NSString).deletingLastPathComponent
        guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else { return nil }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard error.resultCode == .SQLITE_FULL || free < 1 << 20 else { return nil }
        return "disk full (\(ByteCount.format(free)) free in \(directory))"
    }
}

extension SQLiteStore {
    /// Runs `body` in a write transaction; SQLite errors become ``TroupeError``s naming `operation`.
    /// `weight` is how many ordinary commits the transaction is worth, for checkpoint pacing.
    func write<T: Sendable>(_ operation: String, weight: Int = 1, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            let result = try await pool.write(body)
            checkpointer.noteCommits(weight)
            return result
        } catch let error as TroupeError {
            throw error
        } catch {
            if isReadOnly {
                throw TroupeError(.storage, "cannot \(operation): the store is read-only (its directory cannot be written)", context: path)
            }
            if let full = StoreFailure.diskFull(error, path: path) {
                throw TroupeError(.storage, "cannot \(operation): \(full); nothing of it was written", context: path, cause: StoreFailure(error))
            }
            throw TroupeError(.storage, "cannot \(operation)", context: path, cause: StoreFailure(error))
        }
    }

    /// Runs `body` in a read transaction (a snapshot); errors as in ``write(_:_:)``.
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as TroupeError {
            throw error
        } catch {
            throw TroupeError(.storage, "cannot \(operation)", context: path, cause: StoreFailure(error))
        }
    }

    /// The lines of a log (`table`, numbered by `seq`) that meet every condition (SQL with `?`
    /// marks, and their values), newest first, at most `limit`.
    static func newestFirst(
        _ table: String, where conditions: [(sql: String, values: [any DatabaseValueConvertible])], limit: Int?, _ db: Database
    ) throws -> [Row] {
        var sql = "SELECT * FROM \(table)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.map(\.sql).joined(separator: " AND ") }
        sql += " ORDER BY seq DESC"
        if let limit { sql += " LIMIT \(limit)" }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(conditions.flatMap(\.values)))
    }

    /// Inserts a current record unless its id exists; returns whether it was inserted. One
    /// statement does both the check and the insert.
    func insertIfNew(_ record: MemoryRecord, _ db: Database) throws -> Bool {
        try db.cachedStatement(sql: """
            INSERT INTO memory (id, owner, slice, content, importance, tags, source, metadata, created_at,
                last_accessed_at, access_count, valid_from, valid_to, expires_at, version, model)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO NOTHING
            """).execute(arguments: try arguments(record))
        return db.changesCount > 0
    }

    /// Moves `old` into the history and makes its successor current, in the caller's transaction.
    func supersede(
        _ old: MemoryRecord, seq: Int64, with change: MemoryChange, writer: String, at time: Date, _ db: Database
    ) throws -> MemoryRecord {
        var retired = old
        retired.validTo = time
        try db.cachedStatement(sql: """
            INSERT INTO memory_version (id, owner, slice, content, importance, tags, source, metadata, created_at,
                last_accessed_at, access_count, valid_from, valid_to, expires_at, version, model)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: try arguments(retired))
        let next = old.superseded(by: change, writer: writer, at: time)
        try db.cachedStatement(sql: """
            UPDATE memory SET id = ?, owner = ?, slice = ?, content = ?, importance = ?, tags = ?, source = ?,
                metadata = ?, created_at = ?, last_accessed_at = ?, access_count = ?, valid_from = ?, valid_to = ?,
                expires_at = ?, version = ?, model = ?
            WHERE seq = ? AND version = ?
            """).execute(arguments: try arguments(next) + [seq, old.version])
        // The caller read `old` in this write transaction, so this holds; the condition makes
        // a write that was not based on the current version impossible, whatever the caller.
        guard db.changesCount == 1 else { throw StoreConflict.error(id: old.id, current: -1, expected: old.version) }
        if next.content != old.content {
            // The vector was of the old content; the record waits to be embedded again.
            try db.cachedStatement(sql: "DELETE FROM memory_vector WHERE seq = ?").execute(arguments: [seq])
        }
        return next
    }

    private func arguments(_ r: MemoryRecord) throws -> StatementArguments {
        [
            r.id, r.owner.rawValue, r.slice.rawValue, try sealer.seal(text: r.content, at: r.place(.content)), r.importance,
            try sealer.sealColumn(JSONValue.array(r.tags.map(JSONValue.string)).canonicalText, at: r.place(.tags)), r.source,
            try r.metadata.map { try sealer.sealColumn($0.canonicalText, at: r.place(.metadata)) },
            r.createdAt.millisecondsSince1970, r.lastAccessedAt.millisecondsSince1970, r.accessCount,
            r.validFrom.millisecondsSince1970, r.validTo?.millisecondsSince1970, r.expiresAt?.millisecondsSince1970,
            r.version, r.modelID,
        ]
    }

    /// Decodes a row of `memory` or `memory_version`.
    func record(_ row: Row) throws -> MemoryRecord {
        let id: String = row["id"]
        guard let owner = PersonaID(rawValue: row["owner"]), let slice = SliceKind(rawValue: row["slice"]) else {
            throw TroupeError(.storage, "stored record has a bad owner or slice", context: id)
        }
        let version: Int = row["version"]
        let place = { SealedPlace(owner: owner.rawValue, record: id, version: Int64(version), field: $0) }
        let tags = try StoredStrings.decode(try sealer.openColumn(row["tags"], at: place(.tags)))
        let metadata = try (row["metadata"] as String?).map { try JSONValue.parse(Array(try sealer.openColumn($0, at: place(.metadata)).utf8)) }
        return MemoryRecord(
            id: id, owner: owner, slice: slice, content: try sealer.open(text: row["content"], at: place(.content)),
            importance: row["importance"], tags: tags, source: row["source"],
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            lastAccessedAt: Date(millisecondsSince1970: row["last_accessed_at"]), accessCount: row["access_count"],
            validFrom: Date(millisecondsSince1970: row["valid_from"]),
            validTo: (row["valid_to"] as Int64?).map(Date.init(millisecondsSince1970:)),
            expiresAt: (row["expires_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
            version: version, modelID: row["model"], metadata: metadata)
    }

    /// SQL conditions for a query's filters (not its order or paging).
    /// A sealing store leaves the tag out: its tags are unreadable to SQL, so the caller filters
    /// on it after opening the rows (``MemoryQuery/keepsTag(of:)``).
    static func filter(_ q: MemoryQuery, prefix p: String, sealed: Bool = false) -> ([String], [any DatabaseValueConvertible]) {
        var sql: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let owners = q.owners {
            sql.append("\(p)owner IN (\(Array(repeating: "?", count: owners.count).joined(separator: ",")))")
            arguments += owners.map(\.rawValue)
            if owners.isEmpty { sql[sql.count - 1] = "0" }
        }
        if let slices = q.slices {
            sql.append("\(p)slice IN (\(Array(repeating: "?", count: slices.count).joined(separator: ",")))")
            arguments += slices.map(\.rawValue)
            if slices.isEmpty { sql[sql.count - 1] = "0" }
        }
        if let after = q.createdAfter {
            sql.append("\(p)created_at > ?")
            arguments.append(after.millisecondsSince1970)
        }
        if let before = q.createdBefore {
            sql.append("\(p)created_at < ?")
            arguments.append(before.millisecondsSince1970)
        }
        if let after = q.expiringAfter {
            sql.append("\(p)expires_at > ?")
            arguments.append(after.millisecondsSince1970)
        }
        if let tag = q.tag, !sealed {
            sql.append("EXISTS (SELECT 1 FROM json_each(\(p)tags) WHERE value = ?)")
            arguments.append(tag)
        }
        return (sql, arguments)
    }
}
