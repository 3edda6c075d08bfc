import Foundation
import Testing
import TroupeConfig

@Suite("storage: backends and mirror")
struct StorageConfigTests {
    func read(_ yaml: String) -> (RuntimeConfig.Storage, [String]) {
        let source = YAMLSource(text: yaml, displayPath: "troupe.yaml")
        let config = Configuration.read(runtimeFrom: source, directory: URL(fileURLWithPath: "/tmp"))
        return (config.storage, source.diagnostics.filter { $0.severity == .error }.map { "\($0.line):\($0.column): \($0.message)" })
    }

    @Test func sqliteIsTheDefaultAndPostgresReadsEveryKey() {
        #expect(read("storage:\n  database: m.sqlite\n").0.backend == .sqlite)
        let (s, errors) = read("""
            storage:
              backend: postgres
              url: postgres://troupe@%2Frun%2Fpostgresql/troupe
              password_env: TROUPE_PG_PASSWORD
              schema: team_a
              connections: 8
              mirror: sqlite:/backup/memory.sqlite
            """)
        #expect(errors.isEmpty)
        #expect(s.backend == .postgres && s.url == "postgres://troupe@%2Frun%2Fpostgresql/troupe" && s.passwordEnv == "TROUPE_PG_PASSWORD")
        #expect(s.schema == "team_a" && s.connections == 8 && s.mirror == "sqlite:/backup/memory.sqlite")
    }

    @Test func mistakesArePlacedAtTheirKeys() {
        #expect(read("storage:\n  backend: postgres\n").1 == ["2:12: 'storage.backend: postgres' needs 'storage.url' (postgres://user@host:port/db)"])
        #expect(read("storage:\n  url: mysql://x/y\n").1 == ["2:8: 'storage.url' must start with postgres:// or postgresql://"])
        let password = read("storage:\n  url: postgres://troupe:hunter2@db/troupe\n").1
        #expect(password == ["2:8: 'storage.url' holds a password; put it in an environment variable and name it in 'storage.password_env'"])
        #expect(read("storage:\n  schema: \"a; drop\"\n").1 == ["2:11: 'storage.schema' must be letters, digits and underscores"])
        #expect(read("storage:\n  mirror: /tmp/x.sqlite\n").1 == ["2:11: 'storage.mirror' must be sqlite:PATH or a postgres:// URL"])
    }

    @Test func encryptionKeysAreReadAndOneMasterKeySourceIsAllowed() {
        let (s, errors) = read("storage:\n  encrypt: true\n  vault_key_env: TROUPE_VAULT_KEY\n")
        #expect(errors.isEmpty && s.encrypt && s.vaultKeyEnv == "TROUPE_VAULT_KEY" && s.vaultKeyCommand == nil)
        #expect(read("storage:\n  database: m.sqlite\n").0.encrypt == false)
        let both = read("storage:\n  vault_key_env: K\n  vault_key_command: kms get\n").1
        #expect(both == ["3:22: 'storage.vault_key_env' and 'storage.vault_key_command' both name the master key; keep one"])
    }
}
