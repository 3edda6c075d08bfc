import Foundation
import TroupeCore
import TroupeStore

/// What a write transaction changed: numbered in the change feed and counted in the slice
/// versions when it ends, under the change counter's lock held until COMMIT.
struct PGChanges: Sendable {
    private struct Slice: Hashable, Comparable {
        var owner: String
        var slice: String
        static func < (a: Slice, b: Slice) -> Bool { (a.owner, a.slice) < (b.owner, b.slice) }
    }

    private var feed: [(id: String, removed: Bool)] = []
    private var slices: Set<Slice> = []

    /// A current record was written (`ranks`: in a way that changes what recall ranks).
    mutating func changed(_ id: String, owner: PersonaID, slice: SliceKind, ranks: Bool = true) {
        feed.append((id, false))
        if ranks { slices.insert(Slice(owner: owner.rawValue, slice: slice.rawValue)) }
    }

    mutating func removed(_ id: String, owner: PersonaID, slice: SliceKind) {
        feed.append((id, true))
        slices.insert(Slice(owner: owner.rawValue, slice: slice.rawValue))
    }

    /// Bumps the slice versions (in one order, so two writers never deadlock on them), then
    /// numbers the changes and notifies `channel` (delivered at COMMIT).
    func close(_ c: PGConnection, channel: String) throws {
        if !slices.isEmpty {
            let ordered = slices.sorted()
            try c.execute("""
                INSERT INTO slice_version (owner, slice, version) SELECT o, s, 1 FROM unnest($1::text[], $2::text[]) AS t(o, s)
                ON CONFLICT (owner, slice) DO UPDATE SET version = slice_version.version + 1
                """, [.texts(ordered.map(\.owner)), .texts(ordered.map(\.slice))])
        }
        guard !feed.isEmpty else { return }
        let count = Int64(feed.count)
        guard let last = try c.execute(
            "UPDATE store_counter SET value = value + $1 WHERE name = 'change' RETURNING value", [.int(count)]
        ).rows.first?.int("value") else { throw PGError(message: "the change counter is missing") }
        try c.execute("""
            INSERT INTO memory_change (n, id, removed)
            SELECT $1 + t.o, t.id, t.r FROM unnest($2::text[], $3::bool[]) WITH ORDINALITY AS t(id, r, o)
            """, [.int(last - count), .texts(feed.map(\.id)), .bools(feed.map(\.removed))])
        // Kept short, as on SQLite: a reader further behind reloads.
        if last / 1000 != (last - count) / 1000 {
            try c.execute("DELETE FROM memory_change WHERE n <= $1", [.int(last - PostgresStore.keptChanges)])
        }
        try c.execute("SELECT pg_notify($1, $2)", [.text(channel), .text(String(last))])
    }
}

extension PostgresStore {
    /// How many changes the feed keeps.
    static let keptChanges: Int64 = 250_000

    /// Runs `body` in a write transaction that ends by numbering its changes; failures become
    /// ``TroupeError``s naming `operation`.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PGConnection, inout PGChanges) throws -> T) async throws -> T {
        let (channel, beforeCommit) = (channel, beforeCommit)
        do {
            return try await pool.transaction { c in
                var changes = PGChanges()
                let value = try body(c, &changes)
                try changes.close(c, channel: channel)
                beforeCommit.run()
                return value
            }
        } catch {
            throw failure(operation, error)
        }
    }

    /// Runs `body` on a connection outside any explicit transaction (reads, and bookkeeping
    /// that commits on its own).
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        do {
            return try await pool.run(body)
        } catch {
            throw failure(operation, error)
        }
    }

    /// The error a caller sees: what could not be done, and why, never a statement's arguments.
    func failure(_ operation: String, _ error: any Error) -> any Error {
        if error is TroupeError { return error }
        guard let error = error as? PGError else { return TroupeError(.storage, "cannot \(operation)", context: location.displayed, cause: error) }
        if error.duringCommit {
            return TroupeError(
                .storage, "cannot \(operation): the connection to the store at \(location.displayed) was lost during COMMIT; "
                    + "the write was not acknowledged and may or may not have landed", cause: error)
        }
        if error.isConnectionLoss {
            return TroupeError(.storage, "cannot \(operation): cannot reach the store at \(location.displayed)", cause: error)
        }
        if error.sqlState == "53100" {
            return TroupeError(.storage, "cannot \(operation): the database server's disk is full; nothing of it was written", context: location.displayed, cause: error)
        }
        if error.sqlState == "25006" {
            return TroupeError(.storage, "cannot \(operation): the store is read-only (a standby or a read-only transaction)", context: location.displayed, cause: error)
        }
        return TroupeError(.storage, "cannot \(operation)", context: location.displayed, cause: error)
    }

    static let recordColumns = """
        id, owner, slice, content, importance, tags, source, metadata, created_at, last_accessed_at, access_count,
        valid_from, valid_to, expires_at, version, model
        """

    /// A record as the 16 parameters of ``recordColumns``.
    func parameters(_ r: MemoryRecord) throws -> [PGValue] {
        [
            .text(r.id), .text(r.owner.rawValue), .text(r.slice.rawValue), .bytes(try sealer.seal(text: r.content, at: r.place(.content))), .double(r.importance),
            .text(try sealer.sealColumn(JSONValue.array(r.tags.map(JSONValue.string)).canonicalText, at: r.place(.tags))), .text(r.source),
            try r.metadata.map { .text(try sealer.sealColumn($0.canonicalText, at: r.place(.metadata))) } ?? .null,
            .int(r.createdAt.millisecondsSince1970), .int(r.lastAccessedAt.millisecondsSince1970), .int(Int64(r.accessCount)),
            .int(r.validFrom.millisecondsSince1970), r.validTo.map { .int($0.millisecondsSince1970) } ?? .null,
            r.expiresAt.map { .int($0.millisecondsSince1970) } ?? .null, .int(Int64(r.version)), r.modelID.map(PGValue.text) ?? .null,
        ]
    }

    /// Decodes a row of `memory` or `memory_version`.
    func record(_ row: PGRow) throws -> MemoryRecord {
        let id = try row.string("id")
        guard let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) else {
            throw TroupeError(.storage, "stored record has a bad owner or slice", context: id)
        }
        let version = try row.int("version")
        let place = { SealedPlace(owner: owner.rawValue, record: id, version: version, field: $0) }
        let metadata = try row.optionalString("metadata").map { try JSONValue.parse(Array(try sealer.openColumn($0, at: place(.metadata)).utf8)) }
        return MemoryRecord(
            id: id, owner: owner, slice: slice, content: try sealer.open(text: try row.bytes("content"), at: place(.content)),
            importance: try row.double("importance"), tags: try StoredStrings.decode(try sealer.openColumn(try row.string("tags"), at: place(.tags))),
            source: try row.string("source"),
            createdAt: Date(millisecondsSince1970: try row.int("created_at")),
            lastAccessedAt: Date(millisecondsSince1970: try row.int("last_accessed_at")), accessCount: Int(try row.int("access_count")),
            validFrom: Date(millisecondsSince1970: try row.int("valid_from")),
            validTo: row.optionalInt("valid_to").map(Date.init(millisecondsSince1970:)),
            expiresAt: row.optionalInt("expires_at").map(Date.init(millisecondsSince1970:)),
            version: Int(version), modelID: row.optionalString("model"), metadata: metadata)
    }

    /// The current row of `id`, locked until the transaction ends.
    func lockedRow(_ id: String, _ c: PGConnection) throws -> PGRow? {
        try c.execute("SELECT seq, \(Self.recordColumns) FROM memory WHERE id = $1 FOR UPDATE", [.text(id)]).rows.first
    }

    /// Inserts a current record unless its id exists; returns its row number if it was inserted.
    func insertIfNew(_ record: MemoryRecord, _ c: PGConnection, _ changes: inout PGChanges) throws -> Int64? {
        let row = try c.execute("""
            INSERT INTO memory (\(Self.recordColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            ON CONFLICT (id) DO NOTHING RETURNING seq
            """, try parameters(record)).rows.first
        guard let row else { return nil }
        changes.changed(record.id, owner: record.owner, slice: record.slice)
        return try row.int("seq")
    }

    /// Moves `old` into the history and makes its successor current, in the caller's transaction.
    func supersede(
        _ old: MemoryRecord, seq: Int64, with change: MemoryChange, writer: String, at time: Date, _ c: PGConnection,
        _ changes: inout PGChanges
    ) throws -> MemoryRecord {
        var retired = old
        retired.validTo = time
        try c.execute("""
            INSERT INTO memory_version (\(Self.recordColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            """, try parameters(retired))
        let next = old.superseded(by: change, writer: writer, at: time)
        let updated = try c.execute("""
            UPDATE memory SET id = $1, owner = $2, slice = $3, content = $4, importance = $5, tags = $6, source = $7,
                metadata = $8, created_at = $9, last_accessed_at = $10, access_count = $11, valid_from = $12, valid_to = $13,
                expires_at = $14, version = $15, model = $16
            WHERE seq = $17 AND version = $18
            """, try parameters(next) + [.int(seq), .int(Int64(old.version))])
        // The caller read and locked `old` in this transaction, so this holds.
        guard updated.affected == 1 else { throw StoreConflict.error(id: old.id, current: -1, expected: old.version) }
        if next.content != old.content {
            // The vector was of the old content; the record waits to be embedded again.
            try c.execute("DELETE FROM memory_vector WHERE seq = $1", [.int(seq)])
        }
        changes.changed(next.id, owner: next.owner, slice: next.slice)
        return next
    }

    /// Stores the vector of the record in row `seq` and records its model, in the caller's transaction.
    func storeVector(seq: Int64, _ vector: EmbeddedVector, of record: (id: String, owner: PersonaID, slice: SliceKind), _ c: PGConnection,
                     _ changes: inout PGChanges) throws {
        try c.execute("""
            INSERT INTO memory_vector (seq, model, vector) VALUES ($1, $2, $3)
            ON CONFLICT (seq) DO UPDATE SET model = excluded.model, vector = excluded.vector
            """, [.int(seq), .text(vector.model), .bytes(try sealer.sealVector(vector.values, of: record.id, owner: record.owner.rawValue))])
        try c.execute("UPDATE memory SET model = $1 WHERE seq = $2", [.text(vector.model), .int(seq)])
        changes.changed(record.id, owner: record.owner, slice: record.slice)
    }

    /// SQL conditions for a query's filters (not its order or paging), numbering parameters
    /// from `$\(parameters.count + 1)`.
    /// A sealing store leaves the tag out (its tags are unreadable to SQL): the caller filters
    /// on it after opening the rows.
    static func filter(_ q: MemoryQuery, prefix p: String, parameters: inout [PGValue], sealed: Bool = false) -> [String] {
        var sql: [String] = []
        func next(_ value: PGValue) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let owners = q.owners { sql.append("\(p)owner = ANY(\(next(.texts(owners.map(\.rawValue)))))") }
        if let slices = q.slices { sql.append("\(p)slice = ANY(\(next(.texts(slices.map(\.rawValue)))))") }
        if let after = q.createdAfter { sql.append("\(p)created_at > \(next(.int(after.millisecondsSince1970)))") }
        if let before = q.createdBefore { sql.append("\(p)created_at < \(next(.int(before.millisecondsSince1970)))") }
        if let after = q.expiringAfter { sql.append("\(p)expires_at > \(next(.int(after.millisecondsSince1970)))") }
        if let tag = q.tag, !sealed {
            sql.append("EXISTS (SELECT 1 FROM json_array_elements_text(\(p)tags::json) AS t(tag) WHERE t.tag = \(next(.text(tag))))")
        }
        return sql
    }
}

/// What a test runs in a write transaction after its changes were numbered, before COMMIT (to
/// hold a transaction open there); nothing in the product sets it.
final class CommitHook: Sendable {
    private let action = LockedBox<(@Sendable () -> Void)?>(nil)

    func set(_ action: (@Sendable () -> Void)?) { self.action.withLock { $0 = action } }
    /// Runs the action outside the lock: it is the test's code, and may take its time.
    func run() { action.value?() }
}
