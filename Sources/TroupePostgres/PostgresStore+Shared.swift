import Foundation
import TroupeCore
import TroupeStore

extension PostgresStore {
    public func writeShared(_ writes: [SharedWrite], priorities: [String: Int], at time: Date) async throws
        -> [Result<SharedWriteOutcome, TroupeError>]
    {
        guard !writes.isEmpty else { return [] }
        return try await write("write \(writes.count) shared records") { c, changes in
            // The audit counter's lock comes first: shared writes from every process take turns,
            // and audit numbers follow commit order without gaps.
            try c.execute("SELECT value FROM store_counter WHERE name = 'audit' FOR UPDATE")
            var steps = PGSharedSteps(store: self, connection: c, changes: changes)
            var results: [Result<SharedWriteOutcome, TroupeError>] = []
            for write in writes {
                // Each write in a savepoint of its own: one that fails (an unknown id) leaves no
                // trace and the others still land; a server error ends the whole batch.
                var attempt = steps
                try c.execute("SAVEPOINT shared_write")
                do {
                    let outcome = try SharedWriteResolver.apply(write, priorities: priorities, at: time, steps: &attempt)
                    try c.execute("RELEASE SAVEPOINT shared_write")
                    steps = attempt
                    results.append(.success(outcome))
                } catch let error as TroupeError {
                    try c.execute("ROLLBACK TO SAVEPOINT shared_write")
                    results.append(.failure(error))
                }
            }
            changes = steps.changes
            return results
        }
    }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await read("read the audit log") { c in
            var conditions: [String] = []
            var parameters: [PGValue] = []
            if let slice = query.slice {
                parameters.append(.text(slice.rawValue))
                conditions.append("slice = $\(parameters.count)")
            }
            if let record = query.record {
                parameters.append(.text(record))
                conditions.append("record = $\(parameters.count)")
            }
            var sql = "SELECT * FROM audit_log"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY seq DESC"
            if let limit = query.limit { sql += " LIMIT \(max(0, limit))" }
            return try c.execute(sql, parameters).rows.map(Self.auditEntry)
        }
    }

    /// The lost values and links of a record, for its history.
    /// `owner`: the record's, whose key seals its lost values.
    func conflictHistory(of id: String, owner: String, _ c: PGConnection) throws -> (lost: [LostValue], links: [RecordLink]) {
        let lost = try c.execute("SELECT * FROM memory_lost WHERE id = $1 ORDER BY audit", [.text(id)]).rows.map { row in
            let audit = try row.int("audit")
            let place = { SealedPlace(owner: owner, record: id, version: audit, field: $0) }
            return LostValue(
                audit: try row.int("audit"), id: try row.string("id"), writer: try row.string("writer"),
                baseVersion: Int(try row.int("base_version")),
                outcome: ConflictDecision(rawValue: try row.string("outcome")) ?? .keepCurrent,
                content: try sealer.open(text: try row.bytes("content"), at: place(.lostContent)), importance: try row.double("importance"),
                tags: try StoredStrings.decode(try sealer.openColumn(try row.string("tags"), at: place(.lostTags))),
                metadata: try row.optionalString("metadata").map { try JSONValue.parse(Array(try sealer.openColumn($0, at: place(.lostMetadata)).utf8)) },
                writtenAt: Date(millisecondsSince1970: try row.int("written_at")))
        }
        let links = try c.execute("SELECT * FROM memory_link WHERE id = $1 ORDER BY audit", [.text(id)]).rows.map { row in
            RecordLink(other: try row.string("other"), audit: try row.int("audit"), at: Date(millisecondsSince1970: try row.int("at")))
        }
        return (lost, links)
    }

    private static func auditEntry(_ row: PGRow) throws -> AuditEntry {
        AuditEntry(
            seq: try row.int("seq"), at: Date(millisecondsSince1970: try row.int("at")),
            slice: PersonaID(rawValue: try row.string("slice")) ?? "unknown", record: try row.string("record"),
            writer: try row.string("writer"), baseVersion: Int(try row.int("base_version")),
            currentVersion: Int(try row.int("current_version")),
            policy: ConflictPolicy(rawValue: try row.string("policy")) ?? .lastWriterWins,
            outcome: ConflictDecision(rawValue: try row.string("outcome")) ?? .overwrite,
            kept: try StoredStrings.decode(try row.string("kept")), superseded: try StoredStrings.decode(try row.string("superseded")))
    }
}

/// The steps of a shared write on one PostgreSQL transaction.
struct PGSharedSteps: SharedWriteSteps {
    let store: PostgresStore
    let connection: PGConnection
    var changes: PGChanges
    /// Row numbers of records read (and locked), for superseding them.
    private var rows: [String: Int64] = [:]

    init(store: PostgresStore, connection: PGConnection, changes: PGChanges) {
        self.store = store
        self.connection = connection
        self.changes = changes
    }

    mutating func current(_ id: String) throws -> MemoryRecord? {
        guard let row = try store.lockedRow(id, connection) else { return nil }
        rows[id] = try row.int("seq")
        return try store.record(row)
    }

    mutating func insert(_ record: MemoryRecord, vector: EmbeddedVector?) throws {
        guard let seq = try store.insertIfNew(record, connection, &changes) else {
            throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
        }
        rows[record.id] = seq
        if let vector { try store.storeVector(seq: seq, vector, of: (record.id, record.owner, record.slice), connection, &changes) }
    }

    mutating func supersede(_ old: MemoryRecord, with change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?) throws
        -> MemoryRecord
    {
        guard let seq = rows[old.id] else { throw TroupeError(.storage, "a record was superseded before it was read", context: old.id) }
        var next = try store.supersede(old, seq: seq, with: change, writer: writer, at: time, connection, &changes)
        if let vector, change.content != nil {
            try store.storeVector(seq: seq, vector, of: (next.id, next.owner, next.slice), connection, &changes)
            next.modelID = vector.model
        }
        return next
    }

    mutating func nextAuditNumber() throws -> Int64 {
        guard let n = try connection.execute(
            "UPDATE store_counter SET value = value + 1 WHERE name = 'audit' RETURNING value").rows.first?.int("value")
        else { throw PGError(message: "the audit counter is missing") }
        return n
    }

    mutating func append(_ entry: AuditEntry) throws {
        try connection.execute("""
            INSERT INTO audit_log (seq, at, slice, record, writer, base_version, current_version, policy, outcome, kept, superseded)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, [
                .int(entry.seq), .int(entry.at.millisecondsSince1970), .text(entry.slice.rawValue), .text(entry.record),
                .text(entry.writer), .int(Int64(entry.baseVersion)), .int(Int64(entry.currentVersion)), .text(entry.policy.rawValue),
                .text(entry.outcome.rawValue), .text(StoredStrings.encode(entry.kept)), .text(StoredStrings.encode(entry.superseded)),
            ])
    }

    mutating func keep(_ lost: LostValue, owner: PersonaID) throws {
        let (sealer, place) = (store.sealer, { lost.place($0, owner: owner.rawValue) })
        try connection.execute("""
            INSERT INTO memory_lost (audit, id, writer, base_version, outcome, content, importance, tags, metadata, written_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [
                .int(lost.audit), .text(lost.id), .text(lost.writer), .int(Int64(lost.baseVersion)), .text(lost.outcome.rawValue),
                .bytes(try sealer.seal(text: lost.content, at: place(.lostContent))), .double(lost.importance),
                .text(try sealer.sealColumn(StoredStrings.encode(lost.tags), at: place(.lostTags))),
                try lost.metadata.map { .text(try sealer.sealColumn($0.canonicalText, at: place(.lostMetadata))) } ?? .null, .int(lost.writtenAt.millisecondsSince1970),
            ])
    }

    mutating func link(_ a: String, _ b: String, audit: Int64, at time: Date) throws {
        for (id, other) in [(a, b), (b, a)] {
            try connection.execute(
                "INSERT INTO memory_link (id, other, audit, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                [.text(id), .text(other), .int(audit), .int(time.millisecondsSince1970)])
        }
    }
}
