import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// API keys and the security log (AccessStore.swift) in tables `api_key` and `security_event`.
/// Each write is one transaction, which SQLite's single writer serialises across every process
/// of the file: a revocation and a lookup in another process never see half a key.
extension SQLiteStore: AccessStore {
    public func createKey(_ key: StoredKey) async throws {
        try await write("write an API key down") { db in
            try db.execute(
                sql: """
                    INSERT INTO api_key (id, secret_hash, role, personas, label, created_at, revoked_at, rate_per_second, burst)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
                    """,
                arguments: [
                    key.id, key.secretHash, key.role, key.personasJSON, key.label, key.createdAt.millisecondsSince1970,
                    key.revokedAt?.millisecondsSince1970, key.ratePerSecond, key.burst,
                ])
            guard db.changesCount > 0 else { throw TroupeError(.duplicate, "a key with this id exists already", context: key.id) }
        }
    }

    public func key(id: String) async throws -> StoredKey? {
        try await read("read an API key") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).map(Self.storedKey)
        }
    }

    public func keys() async throws -> [StoredKey] {
        try await read("read the API keys") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY seq").map(Self.storedKey)
        }
    }

    public func revokeKey(id: String, at time: Date) async throws -> StoredKey? {
        try await write("revoke an API key") { db in
            try db.execute(
                sql: "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [time.millisecondsSince1970, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).map(Self.storedKey)
        }
    }

    @discardableResult
    public func appendSecurityEvent(_ event: SecurityEvent) async throws -> SecurityEvent {
        try await write("write to the security log") { db in
            try db.execute(
                sql: "INSERT INTO security_event (at, kind, key_id, source, detail) VALUES (?, ?, ?, ?, ?)",
                arguments: [event.at.millisecondsSince1970, event.kind.rawValue, event.keyID, event.source, event.detail])
            var stored = event
            stored.seq = db.lastInsertedRowID
            return stored
        }
    }

    public func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent] {
        // No kind, or no line, asked for.
        if query.kinds?.isEmpty == true || (query.limit ?? 1) <= 0 { return [] }
        return try await read("read the security log") { db in
            var conditions: [(sql: String, values: [any DatabaseValueConvertible])] = []
            if let kinds = query.kinds {
                conditions.append(("kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))", kinds.map(\.rawValue)))
            }
            if let keyID = query.keyID { conditions.append(("key_id = ?", [keyID])) }
            return try Self.newestFirst("security_event", where: conditions, limit: query.limit, db).map(Self.securityEvent)
        }
    }

    private static func storedKey(_ row: Row) throws -> StoredKey {
        StoredKey(
            id: row["id"], secretHash: row["secret_hash"], role: row["role"], personas: try StoredKey.personas(json: row["personas"]),
            label: row["label"], createdAt: Date(millisecondsSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:)), ratePerSecond: row["rate_per_second"],
            burst: row["burst"])
    }

    private static func securityEvent(_ row: Row) throws -> SecurityEvent {
        SecurityEvent(
            seq: row["seq"], at: Date(millisecondsSince1970: row["at"]), kind: try SecurityEvent.Kind(stored: row["kind"]),
            keyID: row["key_id"], source: row["source"], detail: row["detail"])
    }
}
