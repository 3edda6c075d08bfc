import Foundation
import TroupeCore
import TroupeStore

/// The durable store on PostgreSQL, for several troupe processes (on one machine or many)
/// sharing one truth; it meets the whole storage contract (StorageContract.swift) and runs the
/// same conformance suites as ``SQLiteStore``.
///
/// **Client.** libpq, PostgreSQL's own client library, behind ``PGConnection``: it speaks every
/// authentication method and socket kind the server does, and its blocking calls fit the
/// contract's synchronous pieces (the shared-write resolver runs its steps inside one
/// transaction, as it does on SQLite). Calls run on the pool's own threads.
///
/// **Ordering.** Every write transaction ends by taking the row lock of the change counter,
/// numbering its changes and bumping its slices' versions, and holds that lock until COMMIT,
/// so change numbers follow commit order and a reader that sees change N sees every change
/// before it. Shared writes take the audit counter's lock first, as the contract asks. Locks are
/// always taken in the order audit counter, records, slice versions, change counter; a deadlock
/// the server still finds (two batches locking records in different orders) runs again.
/// Each commit notifies the store's channel, which ``PostgresChangeListener`` follows.
public final class PostgresStore: RecordStore, SharedSliceStore, IndexSource, HotTierSupport {
    public let location: PostgresLocation
    let pool: PGPool
    /// Run in each write transaction just before COMMIT (tests only).
    let beforeCommit = CommitHook()
    public let sealer: any RecordSealer
    /// The LISTEN/NOTIFY channel of this store's schema.
    public let channel: String
    /// The server's version, read when the store was opened (150018 for 15.18).
    public let serverVersion: Int

    /// The schema's version, kept in `store_info`: `pg-v1` had no formation queue, `pg-v2` no
    /// API keys or security log; opening an older store adds what it lacks (``upgrades``).
    static let schemaVersion = "pg-v3"

    /// What each earlier schema lacks, oldest first: a store of `from` gains that step's tables
    /// and every later step's. A new store is made with all of them.
    static let upgrades: [(from: String, sql: String)] = [("pg-v1", formationSQL), ("pg-v2", accessSQL)]

    /// Connects, creates the schema if needed (one process at a time, under an advisory lock)
    /// and checks the sealer. Throws `cannot reach the store at …` when the server does not answer.
    public init(
        location: PostgresLocation, sealer: any RecordSealer = PlainSealer(), connections: Int = 4, reconnectWindow: Double = 10
    ) throws {
        self.location = location
        self.sealer = sealer
        channel = "troupe_changes_" + (location.schema ?? "public").lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let first: PGConnection
        do {
            first = try PGConnection(location)
            serverVersion = first.serverVersion
            try Self.migrate(first, location: location, sealer: sealer)
        } catch let error as TroupeError {
            throw error
        } catch let error as PGError where error.isConnectionLoss {
            throw TroupeError(.storage, "cannot reach the store at \(location.displayed)", cause: error)
        } catch {
            throw TroupeError(.storage, "cannot open the store", context: location.displayed, cause: error)
        }
        pool = PGPool(location: location, size: connections, reconnectWindow: reconnectWindow, first: first)
    }

    private static func migrate(_ c: PGConnection, location: PostgresLocation, sealer: any RecordSealer) throws {
        try c.execute("BEGIN")
        do {
            // Two processes opening a new database at once must not both create the schema.
            try c.execute("SELECT pg_advisory_xact_lock(7307346)")
            if let schema = location.schema { try c.script("CREATE SCHEMA IF NOT EXISTS \(quoted(schema))") }
            let exists = try c.execute("SELECT to_regclass('store_info') IS NOT NULL AS present").rows.first?.bool("present") ?? false
            if !exists { try c.script(schemaSQL + upgrades.map(\.sql).joined()) }
            let info = try c.execute("SELECT key, value FROM store_info").rows
            var values = Dictionary(try info.map { (try $0.string("key"), try $0.string("value")) }, uniquingKeysWith: { a, _ in a })
            if let first = upgrades.firstIndex(where: { $0.from == values["schema"] }) {
                for step in upgrades[first...] { try c.script(step.sql) }
                try c.execute("UPDATE store_info SET value = $1 WHERE key = 'schema'", [.text(schemaVersion)])
                values["schema"] = schemaVersion
            }
            if let stored = values["schema"], stored != schemaVersion {
                throw TroupeError(.storage, "the store has schema '\(stored)', which this build does not know", context: location.displayed)
            }
            if let stored = values["codec"], stored != sealer.id {
                throw TroupeError(.storage, SealerMismatch.describe(stored: stored, opening: sealer.id), context: location.displayed)
            }
            if values["codec"] == nil {
                try c.execute(
                    "INSERT INTO store_info (key, value) VALUES ('codec', $1), ('schema', $2) ON CONFLICT DO NOTHING",
                    [.text(sealer.id), .text(schemaVersion)])
            }
            try c.execute("COMMIT")
        } catch {
            if c.isHealthy { _ = try? c.execute("ROLLBACK") }
            throw error
        }
    }

    /// Drops the store's schema and everything in it (benchmarks and tests; never `public`).
    public func dropSchema() async throws {
        guard let schema = location.schema else { throw TroupeError(.invalidInput, "only a store in a schema of its own can be dropped") }
        try await read("drop the schema \(schema)") { c in try c.script("DROP SCHEMA \(Self.quoted(schema)) CASCADE") }
    }

    /// A double-quoted SQL identifier.
    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The tables, as SQLite's store has them (timestamps in milliseconds, content through the
    /// codec, vectors as little-endian Float32), with every text column in byte order (`C`), the
    /// order SQLite compares in, so that canonical order and paging agree across stores.
    static let schemaSQL = """
        CREATE TABLE memory (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
            owner TEXT COLLATE "C" NOT NULL,
            slice TEXT COLLATE "C" NOT NULL,
            content BYTEA NOT NULL,
            importance DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL,
            source TEXT NOT NULL,
            metadata TEXT,
            created_at BIGINT NOT NULL,
            last_accessed_at BIGINT NOT NULL,
            access_count BIGINT NOT NULL,
            valid_from BIGINT NOT NULL,
            valid_to BIGINT,
            expires_at BIGINT,
            version BIGINT NOT NULL,
            model TEXT
        );
        CREATE INDEX memory_by_owner ON memory (owner, slice, created_at, id);
        CREATE INDEX memory_by_expiry ON memory (slice, expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE memory_version (
            id TEXT COLLATE "C" NOT NULL,
            version BIGINT NOT NULL,
            owner TEXT COLLATE "C" NOT NULL,
            slice TEXT COLLATE "C" NOT NULL,
            content BYTEA NOT NULL,
            importance DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL,
            source TEXT NOT NULL,
            metadata TEXT,
            created_at BIGINT NOT NULL,
            last_accessed_at BIGINT NOT NULL,
            access_count BIGINT NOT NULL,
            valid_from BIGINT NOT NULL,
            valid_to BIGINT NOT NULL,
            expires_at BIGINT,
            model TEXT,
            PRIMARY KEY (id, version)
        );
        CREATE TABLE forget_log (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL,
            owner TEXT COLLATE "C" NOT NULL,
            slice TEXT COLLATE "C" NOT NULL,
            versions BIGINT NOT NULL,
            forgotten_at BIGINT NOT NULL,
            reason TEXT
        );
        CREATE INDEX forget_log_by_id ON forget_log (id);
        CREATE TABLE memory_vector (seq BIGINT PRIMARY KEY, model TEXT NOT NULL, vector BYTEA NOT NULL);
        CREATE TABLE memory_change (n BIGINT PRIMARY KEY, id TEXT COLLATE "C" NOT NULL, removed BOOLEAN NOT NULL);
        -- The change feed's and the audit log's numbers; their row locks order the writers.
        CREATE TABLE store_counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO store_counter (name, value) VALUES ('change', 0), ('audit', 0);
        CREATE TABLE audit_log (
            seq BIGINT PRIMARY KEY,
            at BIGINT NOT NULL,
            slice TEXT COLLATE "C" NOT NULL,
            record TEXT COLLATE "C" NOT NULL,
            writer TEXT NOT NULL,
            base_version BIGINT NOT NULL,
            current_version BIGINT NOT NULL,
            policy TEXT NOT NULL,
            outcome TEXT NOT NULL,
            kept TEXT NOT NULL,
            superseded TEXT NOT NULL
        );
        CREATE INDEX audit_by_slice ON audit_log (slice, seq);
        CREATE INDEX audit_by_record ON audit_log (record, seq);
        CREATE TABLE memory_lost (
            audit BIGINT PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL,
            writer TEXT NOT NULL,
            base_version BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            content BYTEA NOT NULL,
            importance DOUBLE PRECISION NOT NULL,
            tags TEXT NOT NULL,
            metadata TEXT,
            written_at BIGINT NOT NULL
        );
        CREATE INDEX memory_lost_by_id ON memory_lost (id);
        CREATE TABLE memory_link (
            id TEXT COLLATE "C" NOT NULL,
            other TEXT COLLATE "C" NOT NULL,
            audit BIGINT NOT NULL,
            at BIGINT NOT NULL,
            PRIMARY KEY (id, other)
        );
        CREATE TABLE slice_version (
            owner TEXT COLLATE "C" NOT NULL,
            slice TEXT COLLATE "C" NOT NULL,
            version BIGINT NOT NULL,
            PRIMARY KEY (owner, slice)
        );
        CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
}
