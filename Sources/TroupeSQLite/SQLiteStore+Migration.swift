import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore: MigrationEndpoint {
    public var migrationName: String { "sqlite:" + path }

    public func migrationRows(_ table: MigrationTable, after: [StoredValue]?, limit: Int) async throws -> [MigrationRow] {
        try await read("read rows to migrate") { db in
            let sql = table.page(after: after != nil, limit: limit) { _ in "?" }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments((after ?? []).map(\.databaseValue))).map { row in
                Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, StoredValue(row[$0] as DatabaseValue)) })
            }
        }
    }

    public func insertMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try await write("copy \(rows.count) rows into \(table.table)", weight: max(1, rows.count / 20)) { db in
            let columns = table.columns
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO \(table.table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
                """)
            var inserted = 0
            for row in rows {
                try insert.execute(arguments: StatementArguments(columns.map { (row[$0] ?? .null).databaseValue }))
                guard db.changesCount > 0 else { continue }
                inserted += 1
                if table == .records, case .bytes(let vector)? = row["vector"], case .text(let model)? = row["vector_model"] {
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO memory_vector (seq, model, vector) VALUES (?, ?, ?)")
                        .execute(arguments: [db.lastInsertedRowID, model, vector])
                }
            }
            return inserted
        }
    }

    public func migrationCount(_ table: MigrationTable) async throws -> Int {
        try await read("count rows") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.table)") ?? 0 }
    }

    public func lastMigrationKey(_ table: MigrationTable) async throws -> [StoredValue]? {
        try await read("read the last key") { db in
            try Row.fetchOne(db, sql: table.lastKeySQL).map { row in table.key.map { StoredValue(row[$0] as DatabaseValue) } }
        }
    }

    public func migrationRows(_ table: MigrationTable, ids: [String]) async throws -> [MigrationRow] {
        guard !ids.isEmpty else { return [] }
        return try await read("read rows to mirror") { db in
            try ids.chunked(500).flatMap { chunk in
                let sql = table.rows(ofIDs: "(" + chunk.map { _ in "?" }.joined(separator: ", ") + ")")
                // A link's list appears twice (its record and the other).
                let arguments = table == .links ? Array(chunk) + Array(chunk) : Array(chunk)
                return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                    Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, StoredValue(row[$0] as DatabaseValue)) })
                }
            }
        }
    }

    public func replaceMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow], removing: [[StoredValue]]) async throws -> Int {
        guard !rows.isEmpty || !removing.isEmpty else { return 0 }
        let inserted = try await write("mirror \(rows.count + removing.count) rows of \(table.table)") { db in
            var changed = 0
            for key in removing + rows.map(table.key(of:)) {
                try db.execute(sql: table.deleteByKey { _ in "?" }, arguments: StatementArguments(key.map(\.databaseValue)))
                changed += db.changesCount > 0 && rows.isEmpty ? 1 : 0
            }
            return changed
        }
        return try await inserted + insertMigrationRows(table, rows)
    }

    public func info(_ key: String) async throws -> String? {
        try await read("read the store's bookkeeping") { db in
            try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = ?", arguments: [key])
        }
    }

    public func setInfo(_ key: String, _ value: String) async throws {
        try await write("write the store's bookkeeping") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO store_info (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    public func swapInfo(_ key: String, expecting expected: String?, to value: String) async throws -> Bool {
        try await write("write the store's bookkeeping") { db in
            if let expected {
                try db.execute(sql: "UPDATE store_info SET value = ? WHERE key = ? AND value = ?", arguments: [value, key, expected])
            } else {
                try db.execute(sql: "INSERT OR IGNORE INTO store_info (key, value) VALUES (?, ?)", arguments: [key, value])
            }
            return db.changesCount == 1
        }
    }
}

extension StoredValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .text(s)
        case .blob(let d): self = .bytes(d)
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let i): i.databaseValue
        case .double(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .bytes(let d): d.databaseValue
        }
    }
}
