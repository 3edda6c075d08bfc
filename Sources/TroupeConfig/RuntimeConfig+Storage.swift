import Foundation

extension RuntimeConfig {
    public struct Storage: Sendable, Hashable {
        /// Where the durable truth lives: a SQLite file in the home, or a PostgreSQL server.
        public var backend = Backend.sqlite
        /// The SQLite file, relative to the home.
        public var database = "memory.sqlite"
        /// The PostgreSQL server (`backend: postgres`): `postgres://user@host:port/db`, or a unix
        /// socket (`postgres://user@%2Frun%2Fpostgresql/db`). No password in it: see `passwordEnv`.
        public var url: String?
        /// The environment variable holding the PostgreSQL password, if it needs one.
        public var passwordEnv: String?
        /// The schema of Troupe's tables on PostgreSQL (created if missing); `nil`: `public`.
        public var schema: String?
        /// Connections each process keeps to PostgreSQL.
        public var connections = 4
        /// A second store that follows this one during a live move (`sqlite:PATH` or a
        /// `postgres://` URL); the primary alone acknowledges writes.
        public var mirror: String?
        /// The mirror's schema and password variable, when it is PostgreSQL.
        public var mirrorSchema: String?
        public var mirrorPasswordEnv: String?

        public enum Backend: String, Sendable, Hashable, CaseIterable {
            case sqlite, postgres
        }
        /// How long a writer waits for another process's transaction.
        public var busyTimeout: Double = 10
        /// Records per transaction during import.
        public var importBatch = 2000
        /// The longest line import reads (bytes); a longer one is an invalid line, skipped in
        /// constant memory.
        public var maxLineBytes = 4 << 20
        /// `full` fsyncs every commit (an acknowledged write survives power loss); `normal`
        /// survives a crashed process only.
        public var synchronous = Synchronous.full
        /// Whether a home whose store does not exist yet is made encrypted (`troupe vault init`
        /// encrypts one that exists).
        public var encrypt = false
        /// Where the vault's master key comes from, when not the home's key file
        /// (vault/master.key): the variable holding it (base64), or a command that prints it
        /// (an external KMS).
        public var vaultKeyEnv: String?
        public var vaultKeyCommand: String?

        public enum Synchronous: String, Sendable, Hashable, CaseIterable {
            case full, normal
        }
    }

    /// Reads the `storage` mapping over `defaults`.
    static func readStorage(_ s: MappingReader, over defaults: Storage) -> Storage {
        var storage = defaults
        storage.backend = s.choice("backend") ?? storage.backend
        storage.database = s.string("database") ?? storage.database
        storage.url = s.string("url")
        storage.passwordEnv = s.string("password_env")
        storage.schema = s.string("schema")
        storage.connections = s.int("connections", in: 1...64) ?? storage.connections
        storage.mirror = s.string("mirror")
        storage.mirrorSchema = s.string("mirror_schema")
        storage.mirrorPasswordEnv = s.string("mirror_password_env")
        if let mirror = storage.mirror, !(mirror.hasPrefix("sqlite:") || mirror.hasPrefix("postgres://") || mirror.hasPrefix("postgresql://")) {
            s.source.error("'storage.mirror' must be sqlite:PATH or a postgres:// URL", at: s.node("mirror") ?? s.node)
        }
        readPostgresChecks(s, into: storage)
        if case .some(.some(let t)) = s.duration("busy_timeout") { storage.busyTimeout = t }
        storage.importBatch = s.int("import_batch", in: Self.importBatchRange) ?? storage.importBatch
        storage.maxLineBytes = s.int("max_line_bytes", in: Self.maxLineRange) ?? storage.maxLineBytes
        storage.synchronous = s.choice("synchronous") ?? storage.synchronous
        storage.encrypt = s.bool("encrypt") ?? storage.encrypt
        storage.vaultKeyEnv = s.string("vault_key_env")
        storage.vaultKeyCommand = s.string("vault_key_command")
        if storage.vaultKeyEnv != nil, storage.vaultKeyCommand != nil {
            s.source.error("'storage.vault_key_env' and 'storage.vault_key_command' both name the master key; keep one", at: s.node("vault_key_command") ?? s.node)
        }
        s.finish()
        return storage
    }

    /// What `backend: postgres` needs: a URL of the right scheme without a password in it, and a
    /// schema that is a plain name.
    private static func readPostgresChecks(_ s: MappingReader, into storage: Storage) {
        if storage.backend == .postgres, storage.url == nil {
            s.source.error("'storage.backend: postgres' needs 'storage.url' (postgres://user@host:port/db)", at: s.node("backend") ?? s.node)
        }
        if let url = storage.url {
            if !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                s.source.error("'storage.url' must start with postgres:// or postgresql://", at: s.node("url") ?? s.node)
            } else if let rest = url.split(separator: "://", maxSplits: 1).last, let at = rest.firstIndex(of: "@"),
                rest[..<at].contains(":")
            {
                s.source.error("'storage.url' holds a password; put it in an environment variable and name it in 'storage.password_env'", at: s.node("url") ?? s.node)
            }
        }
        if let schema = storage.schema, schema.isEmpty || !schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            s.source.error("'storage.schema' must be letters, digits and underscores", at: s.node("schema") ?? s.node)
        }
    }

}
