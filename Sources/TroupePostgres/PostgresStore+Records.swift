import Foundation
import TroupeCore
import TroupeStore

extension PostgresStore {
    public func put(_ record: MemoryRecord, vector: EmbeddedVector?) async throws {
        try await write("add a record") { c, changes in
            guard let seq = try self.insertIfNew(record, c, &changes) else {
                throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
            }
            if let vector { try self.storeVector(seq: seq, vector, of: (record.id, record.owner, record.slice), c, &changes) }
        }
    }

    public func get(_ id: String) async throws -> MemoryRecord? {
        try await read("read a record") { c in
            try c.execute("SELECT \(Self.recordColumns) FROM memory WHERE id = $1", [.text(id)]).rows.first.flatMap { try self.sealer.readable($0, self.record) }
        }
    }

    public func records(ids: [String]) async throws -> [MemoryRecord] {
        guard !ids.isEmpty else { return [] }
        let found = try await read("read records") { c in
            try c.execute("SELECT \(Self.recordColumns) FROM memory WHERE id = ANY($1)", [.texts(ids)]).rows.compactMap { try self.sealer.readable($0, self.record) }
        }
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byID[$0] }
    }

    public func update(
        _ id: String, expectedVersion: Int, change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?
    ) async throws -> MemoryRecord {
        try await write("update a record") { c, changes in
            guard let row = try self.lockedRow(id, c) else { throw TroupeError(.notFound, "no record with this id", context: id) }
            let old = try self.record(row)
            guard old.version == expectedVersion else {
                throw StoreConflict.error(id: id, current: old.version, expected: expectedVersion)
            }
            let seq = try row.int("seq")
            var next = try self.supersede(old, seq: seq, with: change, writer: writer, at: time, c, &changes)
            if let vector, change.content != nil {
                try self.storeVector(seq: seq, vector, of: (next.id, next.owner, next.slice), c, &changes)
                next.modelID = vector.model
            }
            return next
        }
    }

    public func forget(_ id: String, reason: String?, at time: Date) async throws -> ForgetReceipt {
        try await write("forget a record") { c, changes in
            guard let row = try self.lockedRow(id, c) else { throw TroupeError(.notFound, "no record with this id", context: id) }
            return try self.removeRecord(row, reason: reason, at: time, c, &changes)
        }
    }

    /// Removes the record of `row` (locked) with its versions, vector and conflict history,
    /// leaving a forget receipt, in the caller's transaction. Owner and slice are read as
    /// stored: a record sealed with a shredded key is removed unread.
    func removeRecord(_ row: PGRow, reason: String?, at time: Date, _ c: PGConnection, _ changes: inout PGChanges) throws -> ForgetReceipt {
        let id = try row.string("id")
        guard let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) else {
            throw TroupeError(.storage, "stored record has a bad owner or slice", context: id)
        }
        try c.execute("DELETE FROM memory_vector WHERE seq = $1", [.int(try row.int("seq"))])
        try c.execute("DELETE FROM memory WHERE id = $1", [.text(id)])
        let versions = try c.execute("DELETE FROM memory_version WHERE id = $1", [.text(id)]).affected + 1
        try c.execute("DELETE FROM memory_lost WHERE id = $1", [.text(id)])
        try c.execute("DELETE FROM memory_link WHERE id = $1 OR other = $1", [.text(id)])
        changes.removed(id, owner: owner, slice: slice)
        let receipt = ForgetReceipt(
            id: id, owner: owner.rawValue, slice: slice.rawValue, versions: versions, forgottenAt: time, reason: reason)
        try c.execute(
            "INSERT INTO forget_log (id, owner, slice, versions, forgotten_at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            [.text(id), .text(receipt.owner), .text(receipt.slice), .int(Int64(versions)), .int(time.millisecondsSince1970),
             reason.map(PGValue.text) ?? .null])
        return receipt
    }

    public func query(_ query: MemoryQuery) async throws -> [MemoryRecord] {
        try await read("query records") { c in
            var parameters: [PGValue] = []
            let afterSQL = query.tag != nil && self.sealer.seals
            var conditions = Self.filter(query, prefix: "", parameters: &parameters, sealed: afterSQL)
            if query.order == .canonical, let after = query.after {
                parameters += [
                    .text(after.owner.rawValue), .text(after.slice.rawValue), .int(after.createdAt.millisecondsSince1970), .text(after.id),
                ]
                let n = parameters.count
                conditions.append("(owner, slice, created_at, id) > ($\(n - 3), $\(n - 2), $\(n - 1), $\(n))")
            }
            var sql = "SELECT \(Self.recordColumns) FROM memory"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            switch query.order {
            case .newestFirst: sql += " ORDER BY created_at DESC, id DESC"
            case .canonical: sql += " ORDER BY owner, slice, created_at, id"
            case .expiringLast: sql += " ORDER BY expires_at IS NULL, expires_at DESC, created_at DESC, id DESC"
            }
            if let limit = query.limit, !afterSQL { sql += " LIMIT \(max(0, limit))" }
            let records = try c.execute(sql, parameters).rows.compactMap { try self.sealer.readable($0, self.record) }
            return afterSQL ? query.taggedOnly(records) : records
        }
    }

    public func history(_ id: String) async throws -> RecordHistory {
        try await snapshot("read a record's history") { c in
            let old = try c.execute(
                "SELECT \(Self.recordColumns) FROM memory_version WHERE id = $1 ORDER BY version", [.text(id)]).rows
            let current = try c.execute("SELECT \(Self.recordColumns) FROM memory WHERE id = $1", [.text(id)]).rows.first
            if current == nil, let row = try c.execute(
                "SELECT * FROM forget_log WHERE id = $1 ORDER BY seq DESC LIMIT 1", [.text(id)]).rows.first
            {
                let receipt = ForgetReceipt(
                    id: id, owner: try row.string("owner"), slice: try row.string("slice"), versions: Int(try row.int("versions")),
                    forgottenAt: Date(millisecondsSince1970: try row.int("forgotten_at")), reason: row.optionalString("reason"))
                return RecordHistory(versions: [], forgotten: receipt)
            }
            guard let current else { throw TroupeError(.notFound, "no record with this id", context: id) }
            let (lost, links) = try self.conflictHistory(of: id, owner: try current.string("owner"), c)
            return RecordHistory(versions: try (old + [current]).compactMap { try self.sealer.readable($0, self.record) }, forgotten: nil, lost: lost, links: links)
        }
    }

    public func stats() async throws -> StoreStats {
        try await snapshot("count records") { c in
            let buckets = try c.execute("SELECT owner, slice, COUNT(*) AS n FROM memory GROUP BY owner, slice").rows
                .compactMap { row -> StoreStats.Bucket? in
                    guard let slice = SliceKind(rawValue: try row.string("slice")) else { return nil }
                    return StoreStats.Bucket(owner: try row.string("owner"), slice: slice, count: Int(try row.int("n")))
                }
            func count(_ table: String) throws -> Int { Int(try c.execute("SELECT COUNT(*) AS n FROM \(table)").rows.first?.int("n") ?? 0) }
            let bytes = try c.execute("""
                SELECT (COALESCE(SUM(pg_total_relation_size(c.oid)), 0))::bigint AS bytes FROM pg_class c
                WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
                """).rows.first?.int("bytes")
            return StoreStats(
                buckets: buckets.sorted { ($0.owner, $0.slice) < ($1.owner, $1.slice) },
                supersededVersions: try count("memory_version"), forgotten: try count("forget_log"),
                schemaVersion: Self.schemaVersion, bytesOnDisk: bytes)
        }
    }

    public func upsert(_ batch: [MemoryRecord], vectors: [String: EmbeddedVector], writer: String, at time: Date) async throws
        -> UpsertResult
    {
        guard !batch.isEmpty else { return UpsertResult() }
        return try await write("import a batch of \(batch.count) records") { c, changes in
            var result = UpsertResult()
            // New ids, the common case, go in with one statement (with their vectors' model);
            // the others, and an id's later lines in the batch, are read back one by one, in order.
            let stamped = batch.map { record in
                var stored = record
                if let vector = vectors[record.id] { stored.modelID = vector.model }
                return stored
            }
            var inserted = try self.insertNew(stamped, vectors: vectors, c, &changes)
            for (record, stored) in zip(batch, stamped) {
                if inserted.removeValue(forKey: record.id) != nil {
                    result.summary.inserted += 1
                    result.written.append(stored)
                    continue
                }
                let vector = vectors[record.id]
                guard let row = try self.lockedRow(record.id, c) else {
                    // Removed by another writer since the insert found it: run the batch again.
                    throw PGError(sqlState: "40001", message: "a record vanished during an import")
                }
                guard let old = try self.sealer.readable(row, self.record) else {
                    // Sealed with a shredded key, the record is gone: its remains make way for the new one.
                    _ = try self.removeRecord(row, reason: "sealed with a shredded key", at: time, c, &changes)
                    let again = try self.insertNew([stored], vectors: vectors, c, &changes)
                    guard again[record.id] != nil else { throw TroupeError(.storage, "a removed record is still there", context: record.id) }
                    result.summary.inserted += 1
                    result.written.append(stored)
                    continue
                }
                try StoreConflict.checkSameOwner(old, record)
                if old.hasSameValue(as: record) {
                    result.summary.unchanged += 1
                } else {
                    let seq = try row.int("seq")
                    var next = try self.supersede(old, seq: seq, with: record.valueChange, writer: writer, at: time, c, &changes)
                    if let vector, next.content != old.content {
                        try self.storeVector(seq: seq, vector, of: (next.id, next.owner, next.slice), c, &changes)
                        next.modelID = vector.model
                    }
                    result.summary.updated += 1
                    result.written.append(next)
                }
            }
            return result
        }
    }

    /// Inserts the records whose ids are not in the store yet, in one statement, and their
    /// vectors in another; returns the row numbers of those inserted, by id (an id's first line).
    func insertNew(_ records: [MemoryRecord], vectors: [String: EmbeddedVector], _ c: PGConnection, _ changes: inout PGChanges) throws
        -> [String: Int64]
    {
        let rows = try records.map(parameters)
        let types: [UInt32] = [
            PGValue.textOID, PGValue.textOID, PGValue.textOID, PGValue.byteaOID, PGValue.float8OID, PGValue.textOID, PGValue.textOID,
            PGValue.textOID, PGValue.int8OID, PGValue.int8OID, PGValue.int8OID, PGValue.int8OID, PGValue.int8OID, PGValue.int8OID,
            PGValue.int8OID, PGValue.textOID,
        ]
        let columns = types.indices.map { k in PGValue.array(rows.map { $0[k] }, of: types[k]) }
        let casts = zip(types.indices, types).map { k, type in
            "$\(k + 1)::" + (type == PGValue.textOID ? "text[]" : type == PGValue.byteaOID ? "bytea[]" : type == PGValue.float8OID ? "float8[]" : "int8[]")
        }
        let returned = try c.execute("""
            INSERT INTO memory (\(Self.recordColumns)) SELECT * FROM unnest(\(casts.joined(separator: ", ")))
            ON CONFLICT (id) DO NOTHING RETURNING id, seq
            """, columns).rows
        var inserted: [String: Int64] = [:]
        for row in returned { inserted[try row.string("id")] = try row.int("seq") }
        var embedded: [(Int64, EmbeddedVector, MemoryRecord)] = []
        var counted: Set<String> = []
        for record in records where inserted[record.id] != nil && counted.insert(record.id).inserted {
            changes.changed(record.id, owner: record.owner, slice: record.slice)
            if let vector = vectors[record.id] { embedded.append((inserted[record.id]!, vector, record)) }
        }
        if !embedded.isEmpty {
            try c.execute(
                "INSERT INTO memory_vector (seq, model, vector) SELECT * FROM unnest($1::int8[], $2::text[], $3::bytea[])",
                [.ints(embedded.map(\.0)), .texts(embedded.map(\.1.model)),
                 .array(try embedded.map { .bytes(try sealer.sealVector($0.1.values, of: $0.2.id, owner: $0.2.owner.rawValue)) }, of: PGValue.byteaOID)])
        }
        return inserted
    }

    public func touch(_ ids: [String], at time: Date) async throws {
        guard !ids.isEmpty else { return }
        _ = try await bookkeeping("mark records as used") { c, _ in
            // One statement per number of uses (nearly always just "once").
            let uses = ids.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            for (times, group) in Dictionary(grouping: uses.keys.sorted(), by: { uses[$0]! }).sorted(by: { $0.key < $1.key }) {
                try c.execute(
                    "UPDATE memory SET last_accessed_at = $1, access_count = access_count + $2 WHERE id = ANY($3)",
                    [.int(time.millisecondsSince1970), .int(Int64(times)), .texts(group)])
            }
            return 0
        }
    }

    /// A transaction of access marks and expiry moves on the recall path: committed without
    /// waiting for the server's disk (`synchronous_commit = off`; it survives a crashed
    /// process, not a crashed server), so a recall never waits for an fsync.
    func bookkeeping(_ operation: String, _ body: @escaping @Sendable (PGConnection, inout PGChanges) throws -> Int) async throws -> Int {
        try await write(operation) { c, changes in
            try c.execute("SET LOCAL synchronous_commit = off")
            return try body(c, &changes)
        }
    }

    /// Runs `body` in a read-only transaction on one snapshot, for reads of several tables.
    func snapshot<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        do {
            return try await pool.transaction { c in
                try c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return try body(c)
            }
        } catch {
            throw failure(operation, error)
        }
    }
}
