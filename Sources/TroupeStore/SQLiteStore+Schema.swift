import GRDB

extension SQLiteStore {
    /// The schema's migrations, in order. A migration, once released, is never edited.
    static var migrator: DatabaseMigrator {
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
        return migrator
    }
}
