import Foundation
import TroupeCore

/// What `troupe migrate` copies, table by table: every row as both stores keep it (the same
/// column names and types on SQLite and PostgreSQL), a current record together with its vector.
/// The change feed and slice versions are not copied: the target makes its own as the rows land.
/// Formation jobs not yet done are copied as they are, claims and all, so that a move loses no
/// turn's facts; a mirror leaves them out (``mirrored``). API keys (revoked ones too) and the
/// security log are copied as they are, and a mirror follows them.
public enum MigrationTable: String, CaseIterable, Sendable {
    case records, versions, forgotten, audit, lost, links, formation, keys, security

    /// The tables a mirror follows and `troupe reconcile` compares: all but the formation queue.
    /// The queue is not in the change feed that a mirror follows, and its rows are work in
    /// progress owned by the primary's processes, gone in seconds; what a job forms lands in
    /// memory, which the mirror does follow. Keys and the security log are not in the feed
    /// either, but they last: a store moved without them would let no one in, or let a revoked
    /// key in again.
    public static let mirrored: [MigrationTable] = allCases.filter { $0 != .formation }

    /// The table's columns; its key's columns come first.
    package var columns: [String] {
        switch self {
        case .records:
            // `seq` too: the order of first writes, which breaks ties between records of one
            // time (a conversation's context), so that a copy ranks as its source does.
            ["id", "seq", "owner", "slice", "content", "importance", "tags", "source", "metadata", "created_at", "last_accessed_at", "access_count",
             "valid_from", "valid_to", "expires_at", "version", "model"]
        case .versions:
            ["id", "version", "owner", "slice", "content", "importance", "tags", "source", "metadata", "created_at", "last_accessed_at",
             "access_count", "valid_from", "valid_to", "expires_at", "model"]
        case .forgotten: ["seq", "id", "owner", "slice", "versions", "forgotten_at", "reason"]
        case .audit: ["seq", "at", "slice", "record", "writer", "base_version", "current_version", "policy", "outcome", "kept", "superseded"]
        case .lost: ["audit", "id", "writer", "base_version", "outcome", "content", "importance", "tags", "metadata", "written_at"]
        case .links: ["id", "other", "audit", "at"]
        case .formation: ["seq", "id", "persona", "conversation", "turn", "said", "enqueued_at", "claimed_by", "lease_until", "attempts"]
        case .keys: ["seq", "id", "secret_hash", "role", "personas", "label", "created_at", "revoked_at", "rate_per_second", "burst"]
        case .security: ["seq", "at", "kind", "key_id", "source", "detail"]
        }
    }

    /// The key's columns, in order.
    package var key: [String] {
        switch self {
        case .records: ["id"]
        case .versions: ["id", "version"]
        case .forgotten, .audit, .formation, .keys, .security: ["seq"]
        case .lost: ["audit"]
        case .links: ["id", "other"]
        }
    }

    /// The SQL table.
    package var table: String {
        switch self {
        case .records: "memory"
        case .versions: "memory_version"
        case .forgotten: "forget_log"
        case .audit: "audit_log"
        case .lost: "memory_lost"
        case .links: "memory_link"
        case .formation: "formation_job"
        case .keys: "api_key"
        case .security: "security_event"
        }
    }

    /// `SELECT` of a page after a key (`?` marks, numbered by `mark`), in key order.
    package func page(after: Bool, limit: Int, mark: (Int) -> String) -> String {
        let alias = self == .records ? "m." : ""
        var select = columns.map { alias + $0 }.joined(separator: ", ")
        let from = table + (self == .records ? " m LEFT JOIN memory_vector v ON v.seq = m.seq" : "")
        if self == .records { select += ", v.model AS vector_model, v.vector AS vector" }
        let keys = key.map { alias + $0 }
        var sql = "SELECT \(select) FROM \(from)"
        if after {
            sql += " WHERE (\(keys.joined(separator: ", "))) > (\(key.indices.map { mark($0 + 1) }.joined(separator: ", ")))"
        }
        return sql + " ORDER BY \(keys.joined(separator: ", ")) LIMIT \(limit)"
    }
}

/// A value of a copied column.
public enum StoredValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes(Data)

    /// Bytes for the verification hash: a type tag, then the value.
    package var digestBytes: [UInt8] {
        switch self {
        case .null: [0]
        case .int(let i): [1] + Array(String(i).utf8)
        case .double(let d): [2] + Array(String(d.bitPattern).utf8)
        case .text(let s): [3] + Array(s.utf8)
        case .bytes(let d): [4] + Array(d)
        }
    }
}

/// A copied row: its columns by name (and, for a record, `vector_model` and `vector`).
public typealias MigrationRow = [String: StoredValue]

/// A store a migration reads from and writes to; SQLite and PostgreSQL both are.
public protocol MigrationEndpoint: MemoryStore {
    /// Where the store is, as `troupe migrate` names it (`sqlite:PATH`, `postgres://…`).
    var migrationName: String { get }
    /// What seals the store's records; both ends of a migration must be sealed alike, since
    /// rows move between them as they are.
    var sealer: any RecordSealer { get }
    /// Rows of `table` after the key `after` (its key columns' values), in key order.
    func migrationRows(_ table: MigrationTable, after: [StoredValue]?, limit: Int) async throws -> [MigrationRow]
    /// Inserts rows in one transaction; a row whose key exists is left alone. Returns how many
    /// were inserted.
    func insertMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow]) async throws -> Int
    /// How many rows `table` holds.
    func migrationCount(_ table: MigrationTable) async throws -> Int
    /// The key of the last row of `table` in key order (where a resumed copy goes on).
    func lastMigrationKey(_ table: MigrationTable) async throws -> [StoredValue]?
    /// The rows of `table` that belong to the records `ids` (`records`, `versions`, `lost`:
    /// by `id`; `links`: by `id`), in key order.
    func migrationRows(_ table: MigrationTable, ids: [String]) async throws -> [MigrationRow]
    /// Removes the rows of `table` whose keys are in `removing` or in `rows`, then writes `rows`
    /// (two transactions: a mirror's cursor moves only after both). Returns how many rows changed.
    func replaceMigrationRows(_ table: MigrationTable, _ rows: [MigrationRow], removing: [[StoredValue]]) async throws -> Int
    /// A value kept in the store's own bookkeeping (`store_info`), e.g. a mirror's cursor.
    func info(_ key: String) async throws -> String?
    func setInfo(_ key: String, _ value: String) async throws
    /// Sets `key` to `value` if it holds `expected` now (`nil`: if it is not there), in one
    /// statement; whether it did.
    func swapInfo(_ key: String, expecting expected: String?, to value: String) async throws -> Bool
    /// The source a migration into this store copies from, once one has started.
    func migrationSource() async throws -> String?
    func setMigrationSource(_ name: String) async throws
}

extension MigrationEndpoint {
    public func migrationSource() async throws -> String? { try await info("migrated_from") }
    public func setMigrationSource(_ name: String) async throws { try await setInfo("migrated_from", name) }
}

extension MigrationTable {
    /// Rows of the records among `ids` (`list` is the SQL of the list), in key order; a link
    /// belongs to both its records.
    package func rows(ofIDs list: String) -> String {
        let condition = self == .links ? "id IN \(list) OR other IN \(list)" : "\(self == .records ? "m." : "")id IN \(list)"
        return page(after: false, limit: Int.max, mark: { _ in "" })
            .replacingOccurrences(of: " ORDER BY", with: " WHERE \(condition) ORDER BY")
            .replacingOccurrences(of: " LIMIT \(Int.max)", with: "")
    }

    /// The columns a row's digest covers, in order.
    package var digestColumns: [String] { columns + (self == .records ? ["vector_model", "vector"] : []) }

    /// A SHA-256 of a row's columns (type-tagged, separated); without `accessMarks`, a record's
    /// last access time and count (bookkeeping recall writes outside the change feed) are left out.
    package func digest(of row: MigrationRow, accessMarks: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        for column in digestColumns where accessMarks || (column != "last_accessed_at" && column != "access_count") {
            bytes += (row[column] ?? .null).digestBytes + [0xff]
        }
        return SHA256.digest(of: bytes)
    }

    /// `DELETE` of one row by its key (`?` marks numbered by `mark`).
    package func deleteByKey(mark: (Int) -> String) -> String {
        "DELETE FROM \(table) WHERE (\(key.joined(separator: ", "))) = (\(key.indices.map { mark($0 + 1) }.joined(separator: ", ")))"
    }

    /// The last key in key order.
    package var lastKeySQL: String { "SELECT \(key.joined(separator: ", ")) FROM \(table) ORDER BY \(key.map { $0 + " DESC" }.joined(separator: ", ")) LIMIT 1" }

    /// The key of `row`, for paging.
    package func key(of row: MigrationRow) -> [StoredValue] { key.map { row[$0] ?? .null } }
}
