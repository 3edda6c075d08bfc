import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    public func writeShared(_ writes: [SharedWrite], priorities: [String: Int], at time: Date) async throws
        -> [Result<SharedWriteOutcome, TroupeError>]
    {
        guard !writes.isEmpty else { return [] }
        return try await write("write \(writes.count) shared records", weight: max(1, writes.count / 20)) { db in
            var steps = SQLiteSharedSteps(store: self, db: db)
            var results: [Result<SharedWriteOutcome, TroupeError>] = []
            for write in writes {
                // Each write in a savepoint of its own: one that fails (an unknown id) leaves
                // no trace and the others still land; a SQLite error ends the whole batch.
                var attempt = steps
                var outcome: SharedWriteOutcome?
                do {
                    try db.inSavepoint {
                        outcome = try SharedWriteResolver.apply(write, priorities: priorities, at: time, steps: &attempt)
                        return .commit
                    }
                    steps = attempt
                    results.append(.success(outcome!))
                } catch let error as TroupeError {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await read("read the audit log") { db in
            var conditions: [(sql: String, values: [any DatabaseValueConvertible])] = []
            if let slice = query.slice { conditions.append(("slice = ?", [slice.rawValue])) }
            if let record = query.record { conditions.append(("record = ?", [record])) }
            return try Self.newestFirst("audit_log", where: conditions, limit: query.limit, db).map(Self.auditEntry)
        }
    }

    /// The lost values and links of a record, for its history.
    /// `owner`: the record's, whose key seals its lost values.
    func conflictHistory(of id: String, owner: String, _ db: Database) throws -> (lost: [LostValue], links: [RecordLink]) {
        let lost = try Row.fetchAll(db, sql: "SELECT * FROM memory_lost WHERE id = ? ORDER BY audit", arguments: [id]).map { row in
            let place = { SealedPlace(owner: owner, record: id, version: row["audit"], field: $0) }
            return LostValue(
                audit: row["audit"], id: row["id"], writer: row["writer"], baseVersion: row["base_version"],
                outcome: ConflictDecision(rawValue: row["outcome"]) ?? .keepCurrent,
                content: try sealer.open(text: row["content"], at: place(.lostContent)),
                importance: row["importance"], tags: try Self.strings(try sealer.openColumn(row["tags"], at: place(.lostTags))),
                metadata: try (row["metadata"] as String?).map { try JSONValue.parse(Array(try sealer.openColumn($0, at: place(.lostMetadata)).utf8)) },
                writtenAt: Date(millisecondsSince1970: row["written_at"]))
        }
        let links = try Row.fetchAll(db, sql: "SELECT * FROM memory_link WHERE id = ? ORDER BY audit", arguments: [id]).map { row in
            RecordLink(other: row["other"], audit: row["audit"], at: Date(millisecondsSince1970: row["at"]))
        }
        return (lost, links)
    }

    /// Removes what a forgotten record leaves in the conflict tables (its lost values, its links).
    func forgetConflictHistory(of id: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM memory_lost WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM memory_link WHERE id = ? OR other = ?", arguments: [id, id])
    }

    private static func auditEntry(_ row: Row) throws -> AuditEntry {
        AuditEntry(
            seq: row["seq"], at: Date(millisecondsSince1970: row["at"]), slice: PersonaID(rawValue: row["slice"]) ?? "unknown",
            record: row["record"], writer: row["writer"], baseVersion: row["base_version"], currentVersion: row["current_version"],
            policy: ConflictPolicy(rawValue: row["policy"]) ?? .lastWriterWins,
            outcome: ConflictDecision(rawValue: row["outcome"]) ?? .overwrite, kept: try strings(row["kept"]),
            superseded: try strings(row["superseded"]))
    }

    static func strings(_ text: String) throws -> [String] { try StoredStrings.decode(text) }

    static func text(_ strings: [String]) -> String { StoredStrings.encode(strings) }
}

/// The steps of a shared write on one SQLite transaction.
struct SQLiteSharedSteps: SharedWriteSteps {
    let store: SQLiteStore
    let db: Database
    /// Row numbers of records read, for superseding them.
    private var rows: [String: Int64] = [:]

    init(store: SQLiteStore, db: Database) {
        self.store = store
        self.db = db
    }

    mutating func current(_ id: String) throws -> MemoryRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM memory WHERE id = ?"), arguments: [id]) else { return nil }
        rows[id] = row["seq"]
        return try store.record(row)
    }

    mutating func insert(_ record: MemoryRecord, vector: EmbeddedVector?) throws {
        guard try store.insertIfNew(record, db) else {
            throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
        }
        let seq = db.lastInsertedRowID
        rows[record.id] = seq
        if let vector { try store.storeVector(seq: seq, vector, db) }
    }

    mutating func supersede(_ old: MemoryRecord, with change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?) throws
        -> MemoryRecord
    {
        guard let seq = rows[old.id] else { throw TroupeError(.storage, "a record was superseded before it was read", context: old.id) }
        var next = try store.supersede(old, seq: seq, with: change, writer: writer, at: time, db)
        if let vector, change.content != nil {
            try store.storeVector(seq: seq, vector, db)
            next.modelID = vector.model
        }
        return next
    }

    func nextAuditNumber() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log") ?? 1
    }

    func append(_ entry: AuditEntry) throws {
        try db.cachedStatement(sql: """
            INSERT INTO audit_log (seq, at, slice, record, writer, base_version, current_version, policy, outcome, kept, superseded)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                entry.seq, entry.at.millisecondsSince1970, entry.slice.rawValue, entry.record, entry.writer, entry.baseVersion,
                entry.currentVersion, entry.policy.rawValue, entry.outcome.rawValue, SQLiteStore.text(entry.kept),
                SQLiteStore.text(entry.superseded),
            ])
    }

    func keep(_ lost: LostValue, owner: PersonaID) throws {
        let sealer = store.sealer
        let place = { lost.place($0, owner: owner.rawValue) }
        try db.cachedStatement(sql: """
            INSERT INTO memory_lost (audit, id, writer, base_version, outcome, content, importance, tags, metadata, written_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                lost.audit, lost.id, lost.writer, lost.baseVersion, lost.outcome.rawValue, try sealer.seal(text: lost.content, at: place(.lostContent)),
                lost.importance, try sealer.sealColumn(SQLiteStore.text(lost.tags), at: place(.lostTags)),
                try lost.metadata.map { try sealer.sealColumn($0.canonicalText, at: place(.lostMetadata)) }, lost.writtenAt.millisecondsSince1970,
            ])
    }

    func link(_ a: String, _ b: String, audit: Int64, at time: Date) throws {
        for (id, other) in [(a, b), (b, a)] {
            try db.execute(
                sql: "INSERT OR IGNORE INTO memory_link (id, other, audit, at) VALUES (?, ?, ?, ?)",
                arguments: [id, other, audit, time.millisecondsSince1970])
        }
    }
}
