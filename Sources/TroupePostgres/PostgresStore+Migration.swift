import Foundation
import TroupeCore
import TroupeStore

extension PostgresStore: MigrationEndpoint {
    public var migrationName: String { location.displayed + (location.schema.map { " (schema \($0))" } ?? "") }

    public func migrationRows(_ table: MigrationTable, after: [StoredValue]?, limit: Int) async throws -> [MigrationRow] {
        try await read("read rows to migrate") { c in
            let sql = table.page(after: after != nil, limit: limit) { "$\($0)" }
            return try c.execute(sql, (after ?? []).map(\.pgValue)).rows.map { row in
                Dictionary(uniqueKeysWithValues: row.names.map { ($0.key, StoredValue(row.values[$0.value])) })
            }
        }
    }

    public func insertMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try await write("copy \(rows.count) rows into \(table.table)") { c, changes in
            // One statement for the batch: a column array each, rows whose key exists left alone.
            let columns = table.columns
            let types = columns.map(Self.columnType)
            let arrays = zip(columns, types).map { column, type in PGValue.array(rows.map { ($0[column] ?? .null).pgValue }, of: type) }
            let casts = types.enumerated().map { "$\($0.offset + 1)::\(Self.arrayName($0.element))" }
            let returning = table == .records ? "id, seq, owner, slice" : table.key.joined(separator: ", ")
            let inserted = try c.execute("""
                INSERT INTO \(table.table) (\(columns.joined(separator: ", "))) SELECT * FROM unnest(\(casts.joined(separator: ", ")))
                ON CONFLICT DO NOTHING RETURNING \(returning)
                """, arrays).rows
            if table == .records {
                var landed: [String: Int64] = [:]
                for row in inserted {
                    let id = try row.string("id")
                    landed[id] = try row.int("seq")
                    if let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) {
                        changes.changed(id, owner: owner, slice: slice)
                    }
                }
                let vectors = rows.compactMap { row -> (Int64, String, Data)? in
                    guard case .text(let id)? = row["id"], let seq = landed[id], case .text(let model)? = row["vector_model"],
                        case .bytes(let vector)? = row["vector"]
                    else { return nil }
                    return (seq, model, vector)
                }
                if !vectors.isEmpty {
                    try c.execute(
                        "INSERT INTO memory_vector (seq, model, vector) SELECT * FROM unnest($1::int8[], $2::text[], $3::bytea[])",
                        [.ints(vectors.map(\.0)), .texts(vectors.map(\.1)), .array(vectors.map { .bytes($0.2) }, of: PGValue.byteaOID)])
                }
                try c.execute("SELECT setval(pg_get_serial_sequence('memory', 'seq'), GREATEST((SELECT MAX(seq) FROM memory), 1))")
            }
            // Numbers the copied rows carry: new ones continue after them.
            if table == .audit {
                try c.execute("UPDATE store_counter SET value = GREATEST(value, (SELECT COALESCE(MAX(seq), 0) FROM audit_log)) WHERE name = 'audit'")
            }
            if [.forgotten, .formation, .keys, .security].contains(table) {
                try c.execute("SELECT setval(pg_get_serial_sequence('\(table.table)', 'seq'), (SELECT MAX(seq) FROM \(table.table)))")
            }
            return inserted.count
        }
    }

    /// The PostgreSQL type of a copied column (the schema's).
    static func columnType(_ column: String) -> UInt32 {
        switch column {
        case "content", "vector", "said": PGValue.byteaOID
        case "importance", "rate_per_second": PGValue.float8OID
        case "id", "owner", "slice", "tags", "source", "metadata", "model", "reason", "policy", "outcome", "kept", "superseded", "writer",
            "record", "other", "vector_model", "persona", "conversation", "claimed_by", "secret_hash", "role", "personas", "label", "kind",
            "key_id", "detail":
            PGValue.textOID
        default: PGValue.int8OID
        }
    }

    static func arrayName(_ type: UInt32) -> String {
        switch type {
        case PGValue.byteaOID: "bytea[]"
        case PGValue.float8OID: "float8[]"
        case PGValue.textOID: "text[]"
        default: "int8[]"
        }
    }

    public func migrationCount(_ table: MigrationTable) async throws -> Int {
        try await read("count rows") { c in Int(try c.execute("SELECT COUNT(*) AS n FROM \(table.table)").rows.first?.int("n") ?? 0) }
    }

    public func lastMigrationKey(_ table: MigrationTable) async throws -> [StoredValue]? {
        try await read("read the last key") { c in
            try c.execute(table.lastKeySQL).rows.first.map { row in table.key.map { StoredValue(row[$0]) } }
        }
    }

    public func migrationRows(_ table: MigrationTable, ids: [String]) async throws -> [MigrationRow] {
        guard !ids.isEmpty else { return [] }
        return try await read("read rows to mirror") { c in
            try c.execute(table.rows(ofIDs: "(SELECT unnest($1::text[]))"), [.texts(ids)]).rows.map { row in
                Dictionary(uniqueKeysWithValues: row.names.map { ($0.key, StoredValue(row.values[$0.value])) })
            }
        }
    }

    public func replaceMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow], removing: [[StoredValue]]) async throws -> Int {
        guard !rows.isEmpty || !removing.isEmpty else { return 0 }
        let removed = try await write("mirror \(rows.count + removing.count) rows of \(table.table)") { c, changes in
            var removed = 0
            for key in removing + rows.map(table.key(of:)) {
                if table == .records {
                    // The record's vector and the feed go with it.
                    guard case .text(let id)? = key.first,
                        let row = try c.execute("DELETE FROM memory WHERE id = $1 RETURNING seq, owner, slice", [.text(id)]).rows.first
                    else { continue }
                    try c.execute("DELETE FROM memory_vector WHERE seq = $1", [.int(try row.int("seq"))])
                    if let owner = PersonaID(rawValue: try row.string("owner")), let slice = SliceKind(rawValue: try row.string("slice")) {
                        changes.removed(id, owner: owner, slice: slice)
                    }
                    removed += 1
                } else {
                    removed += try c.execute(table.deleteByKey { "$\($0)" }, key.map(\.pgValue)).affected
                }
            }
            return rows.isEmpty ? removed : 0
        }
        return try await removed + insertMigrationRows(table, rows)
    }

    public func info(_ key: String) async throws -> String? {
        try await read("read the store's bookkeeping") { c in
            try c.execute("SELECT value FROM store_info WHERE key = $1", [.text(key)]).rows.first?.string("value")
        }
    }

    public func setInfo(_ key: String, _ value: String) async throws {
        _ = try await write("write the store's bookkeeping") { c, _ in
            try c.execute(
                "INSERT INTO store_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [.text(key), .text(value)])
        }
    }

    public func swapInfo(_ key: String, expecting expected: String?, to value: String) async throws -> Bool {
        try await write("write the store's bookkeeping") { c, _ in
            let result = try expected.map {
                try c.execute("UPDATE store_info SET value = $1 WHERE key = $2 AND value = $3 RETURNING key", [.text(value), .text(key), .text($0)])
            } ?? c.execute("INSERT INTO store_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key", [.text(key), .text(value)])
            return result.rows.count == 1
        }
    }
}

extension StoredValue {
    init(_ value: PGValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .text(let s): self = .text(s)
        case .bytes(let d): self = .bytes(d)
        case .bool(let b): self = .int(b ? 1 : 0)
        case .null, .array: self = .null
        }
    }

    var pgValue: PGValue {
        switch self {
        case .null: .null
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .text(let s): .text(s)
        case .bytes(let d): .bytes(d)
        }
    }
}
