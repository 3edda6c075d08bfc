import Foundation

extension RuntimeConfig {
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
