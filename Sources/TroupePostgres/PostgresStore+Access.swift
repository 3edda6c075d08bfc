import Foundation
import TroupeCore
import TroupeStore

/// API keys and the security log (AccessStore.swift) in tables `api_key` and `security_event`,
/// shared by every process of the store: a key made or revoked by one `troupe serve` holds for
/// all of them at their next lookup.
extension PostgresStore: AccessStore {
    /// The tables, created with the schema, or added to a `pg-v2` store when it is opened.
    static let accessSQL = """
        CREATE TABLE api_key (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            personas TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            rate_per_second DOUBLE PRECISION NOT NULL,
            burst BIGINT NOT NULL
        );
        CREATE TABLE security_event (
            seq BIGSERIAL PRIMARY KEY,
            at BIGINT NOT NULL,
            kind TEXT NOT NULL,
            key_id TEXT COLLATE "C",
            source TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX security_event_by_key ON security_event (key_id, seq);
        """

    public func createKey(_ key: StoredKey) async throws {
        let created = try await write("write an API key down") { c, _ in
            try c.execute("""
                INSERT INTO api_key (id, secret_hash, role, personas, label, created_at, revoked_at, rate_per_second, burst)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING
                """, [
                    .text(key.id), .text(key.secretHash), .text(key.role), .text(key.personasJSON), .text(key.label),
                    .int(key.createdAt.millisecondsSince1970), key.revokedAt.map { .int($0.millisecondsSince1970) } ?? .null,
                    .double(key.ratePerSecond), .int(Int64(key.burst)),
                ]).affected == 1
        }
        guard created else { throw TroupeError(.duplicate, "a key with this id exists already", context: key.id) }
    }

    public func key(id: String) async throws -> StoredKey? {
        try await read("read an API key") { c in
            try c.execute("SELECT * FROM api_key WHERE id = $1", [.text(id)]).rows.first.map(Self.storedKey)
        }
    }

    public func keys() async throws -> [StoredKey] {
        try await read("read the API keys") { c in
            try c.execute("SELECT * FROM api_key ORDER BY seq").rows.map(Self.storedKey)
        }
    }

    public func revokeKey(id: String, at time: Date) async throws -> StoredKey? {
        try await write("revoke an API key") { c, _ in
            // The first revocation's time stays: COALESCE keeps it, and the row comes back either way.
            try c.execute(
                "UPDATE api_key SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
                [.int(time.millisecondsSince1970), .text(id)]
            ).rows.first.map(Self.storedKey)
        }
    }

    @discardableResult
    public func appendSecurityEvent(_ event: SecurityEvent) async throws -> SecurityEvent {
        try await write("write to the security log") { c, _ in
            let row = try c.execute(
                "INSERT INTO security_event (at, kind, key_id, source, detail) VALUES ($1, $2, $3, $4, $5) RETURNING seq", [
                    .int(event.at.millisecondsSince1970), .text(event.kind.rawValue), event.keyID.map(PGValue.text) ?? .null,
                    .text(event.source), .text(event.detail),
                ]
            ).rows.first
            var stored = event
            stored.seq = try row?.int("seq") ?? 0
            return stored
        }
    }

    public func securityEvents(_ query: SecurityEventQuery) async throws -> [SecurityEvent] {
        // No kind, or no line, asked for.
        if query.kinds?.isEmpty == true || (query.limit ?? 1) <= 0 { return [] }
        return try await read("read the security log") { c in
            // A condition left out is a NULL argument.
            try c.execute("""
                SELECT * FROM security_event
                WHERE ($1::text[] IS NULL OR kind = ANY($1::text[])) AND ($2::text IS NULL OR key_id = $2::text)
                ORDER BY seq DESC LIMIT $3
                """, [
                    query.kinds.map { .texts($0.map(\.rawValue)) } ?? .null, query.keyID.map(PGValue.text) ?? .null,
                    query.limit.map { .int(Int64($0)) } ?? .null,
                ]
            ).rows.map(Self.securityEvent)
        }
    }

    private static func storedKey(_ row: PGRow) throws -> StoredKey {
        StoredKey(
            id: try row.string("id"), secretHash: try row.string("secret_hash"), role: try row.string("role"),
            personas: try StoredKey.personas(json: try row.string("personas")), label: try row.string("label"),
            createdAt: Date(millisecondsSince1970: try row.int("created_at")),
            revokedAt: row.optionalInt("revoked_at").map(Date.init(millisecondsSince1970:)), ratePerSecond: try row.double("rate_per_second"),
            burst: Int(try row.int("burst")))
    }

    private static func securityEvent(_ row: PGRow) throws -> SecurityEvent {
        SecurityEvent(
            seq: try row.int("seq"), at: Date(millisecondsSince1970: try row.int("at")), kind: try SecurityEvent.Kind(stored: try row.string("kind")),
            keyID: row.optionalString("key_id"), source: try row.string("source"), detail: try row.string("detail"))
    }
}
