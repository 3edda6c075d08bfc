import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    /// The schema's migrations, in order. A migration, once released, is never edited.
    static func migrator(sealer: any RecordSealer) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-memory") { db in
            // Current versions. `seq` is the integer key the full-text index refers to.
            try db.execute(sql: """
                CREATE TABLE memory (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    owner TEXT NOT NULL,
                    slice TEXT NOT NULL,
                    content BLOB NOT NULL,
                    importance REAL NOT NULL,
                    tags TEXT NOT NULL,
                    source TEXT NOT NULL,
                    metadata TEXT,
                    created_at INTEGER NOT NULL,
                    last_accessed_at INTEGER NOT NULL,
                    access_count INTEGER NOT NULL,
                    valid_from INTEGER NOT NULL,
                    valid_to INTEGER,
                    expires_at INTEGER,
                    version INTEGER NOT NULL,
                    model TEXT
                );
                CREATE INDEX memory_by_owner ON memory(owner, slice, created_at);

                -- Superseded versions: the history of a record.
                CREATE TABLE memory_version (
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    owner TEXT NOT NULL,
                    slice TEXT NOT NULL,
                    content BLOB NOT NULL,
                    importance REAL NOT NULL,
                    tags TEXT NOT NULL,
                    source TEXT NOT NULL,
                    metadata TEXT,
                    created_at INTEGER NOT NULL,
                    last_accessed_at INTEGER NOT NULL,
                    access_count INTEGER NOT NULL,
                    valid_from INTEGER NOT NULL,
                    valid_to INTEGER NOT NULL,
                    expires_at INTEGER,
                    model TEXT,
                    PRIMARY KEY (id, version)
                ) WITHOUT ROWID;

                -- What `forget` leaves: who, when and how much, never the content.
                CREATE TABLE forget_log (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    slice TEXT NOT NULL,
                    versions INTEGER NOT NULL,
                    forgotten_at INTEGER NOT NULL,
                    reason TEXT
                );
                CREATE INDEX forget_log_by_id ON forget_log(id);

                -- Contentless: the index keeps tokens, not text, so `forget` leaves no copy here.
                CREATE VIRTUAL TABLE memory_fts USING fts5(
                    content, content='', tokenize='porter unicode61 remove_diacritics 2'
                );

                CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v2-fts-scope") { db in
            // The index also holds each record's owner and slice as tokens of a second column, so
            // a recall's MATCH selects only the slices it may read before anything is ranked;
            // that column weighs nothing in BM25.
            try db.execute(sql: """
                DROP TABLE memory_fts;
                CREATE VIRTUAL TABLE memory_fts USING fts5(
                    content, scope, content='', tokenize='porter unicode61 remove_diacritics 2'
                );
                INSERT INTO memory_fts(memory_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
                """)
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, id, version, owner, slice, content FROM memory")
            let insert = try db.makeStatement(sql: "INSERT INTO memory_fts(rowid, content, scope) VALUES (?, ?, ?)")
            while let row = try rows.next() {
                guard let owner = PersonaID(rawValue: row["owner"]), let slice = SliceKind(rawValue: row["slice"]) else {
                    throw TroupeError(.storage, "stored record has a bad owner or slice", context: "seq \(row["seq"] as Int64)")
                }
                try insert.execute(arguments: [
                    row["seq"] as Int64,
                    try sealer.open(text: row["content"], at: SealedPlace(owner: owner.rawValue, record: row["id"], version: row["version"], field: .content)),
                    LexicalScope.tokens(owner: owner, slice: slice),
                ])
            }
        }
        migrator.registerMigration("v3-vectors-changes") { db in
            try db.execute(sql: """
                -- A record's embedding for its current content, as little-endian Float32.
                CREATE TABLE memory_vector (
                    seq INTEGER PRIMARY KEY,
                    model TEXT NOT NULL,
                    vector BLOB NOT NULL
                );

                -- What changed, in order, for in-memory indexes to catch up with any writer, in
                -- this process or another. Kept short: an index further behind reloads.
                CREATE TABLE memory_change (
                    n INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL,
                    removed INTEGER NOT NULL
                );
                CREATE TRIGGER memory_change_insert AFTER INSERT ON memory BEGIN
                    INSERT INTO memory_change(id, removed) VALUES (new.id, 0);
                END;
                -- Not on last_accessed_at or access_count: a recall's `touch` changes nothing ranked.
                CREATE TRIGGER memory_change_update
                AFTER UPDATE OF id, owner, slice, content, importance, tags, created_at, version, model, expires_at ON memory
                BEGIN
                    INSERT INTO memory_change(id, removed) VALUES (new.id, 0);
                END;
                CREATE TRIGGER memory_change_delete AFTER DELETE ON memory BEGIN
                    INSERT INTO memory_change(id, removed) VALUES (old.id, 1);
                    DELETE FROM memory_vector WHERE seq = old.seq;
                END;
                CREATE TRIGGER memory_change_trim AFTER INSERT ON memory_change BEGIN
                    DELETE FROM memory_change WHERE n <= new.n - 250000;
                END;
                """)
        }
        migrator.registerMigration("v4-coordination") { db in
            try db.execute(sql: """
                -- Stale writes to shared slices and how their policy resolved them; no content.
                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    slice TEXT NOT NULL,
                    record TEXT NOT NULL,
                    writer TEXT NOT NULL,
                    base_version INTEGER NOT NULL,
                    current_version INTEGER NOT NULL,
                    policy TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    kept TEXT NOT NULL,
                    superseded TEXT NOT NULL
                );
                CREATE INDEX audit_by_slice ON audit_log(slice, seq);
                CREATE INDEX audit_by_record ON audit_log(record, seq);

                -- Values written to a record that never became current: part of its history,
                -- one per audit line, removed with the record by `forget`.
                CREATE TABLE memory_lost (
                    audit INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    writer TEXT NOT NULL,
                    base_version INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    content BLOB NOT NULL,
                    importance REAL NOT NULL,
                    tags TEXT NOT NULL,
                    metadata TEXT,
                    written_at INTEGER NOT NULL
                );
                CREATE INDEX memory_lost_by_id ON memory_lost(id);

                -- Records kept side by side after a conflict, both ways.
                CREATE TABLE memory_link (
                    id TEXT NOT NULL,
                    other TEXT NOT NULL,
                    audit INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (id, other)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5-hot-tier") { db in
            try db.execute(sql: """
                -- A counter per owner and slice that grows with every write changing what recall
                -- ranks there, whoever writes and whether Redis is up: the recall cache's key
                -- includes it, so no write can leave a stale cached answer behind.
                CREATE TABLE slice_version (
                    owner TEXT NOT NULL,
                    slice TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    PRIMARY KEY (owner, slice)
                ) WITHOUT ROWID;
                INSERT INTO slice_version (owner, slice, version) SELECT DISTINCT owner, slice, 1 FROM memory;
                CREATE TRIGGER slice_version_insert AFTER INSERT ON memory BEGIN
                    INSERT INTO slice_version (owner, slice, version) VALUES (new.owner, new.slice, 1)
                        ON CONFLICT (owner, slice) DO UPDATE SET version = version + 1;
                END;
                CREATE TRIGGER slice_version_update
                AFTER UPDATE OF owner, slice, content, importance, tags, created_at, version, model ON memory BEGIN
                    INSERT INTO slice_version (owner, slice, version) VALUES (new.owner, new.slice, 1)
                        ON CONFLICT (owner, slice) DO UPDATE SET version = version + 1;
                    UPDATE slice_version SET version = version + 1
                        WHERE owner = old.owner AND slice = old.slice AND (old.owner != new.owner OR old.slice != new.slice);
                END;
                CREATE TRIGGER slice_version_delete AFTER DELETE ON memory BEGIN
                    UPDATE slice_version SET version = version + 1 WHERE owner = old.owner AND slice = old.slice;
                END;
                -- Live working memory is found by its expiry.
                CREATE INDEX memory_by_expiry ON memory(slice, expires_at) WHERE expires_at IS NOT NULL;
                """)
        }
        migrator.registerMigration("v6-no-fts") { db in
            // Recall ranks in its in-memory index (whose BM25 equals FTS5's); the full-text
            // index had no reader left and cost every write.
            try db.execute(sql: "DROP TABLE memory_fts")
        }
        migrator.registerMigration("v7-formation-queue") { db in
            // Memory formation waiting to be done (SQLiteStore+Formation.swift): in the store, so
            // that every process of it shares the queue. `seq` is the order jobs were written
            // in; `said` (words people wrote) is sealed like a record's content.
            try db.execute(sql: """
                CREATE TABLE formation_job (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    persona TEXT NOT NULL,
                    conversation TEXT NOT NULL,
                    turn INTEGER NOT NULL,
                    said BLOB NOT NULL,
                    enqueued_at INTEGER NOT NULL,
                    claimed_by TEXT,
                    lease_until INTEGER,
                    attempts INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v8-access") { db in
            // API keys and the security log (SQLiteStore+Access.swift): in the store, so that
            // every process of it sees the same keys and revocations and writes one log. `seq`
            // is the order keys were made and lines written; a key's personas are a JSON array.
            try db.execute(sql: """
                CREATE TABLE api_key (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    secret_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    personas TEXT NOT NULL,
                    label TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    rate_per_second REAL NOT NULL,
                    burst INTEGER NOT NULL
                );
                CREATE TABLE security_event (
                    seq INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    key_id TEXT,
                    source TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX security_event_by_key ON security_event(key_id, seq);
                """)
        }
        return migrator
    }
}
