import Foundation
import TroupeConfig
import TroupeCore
import TroupePostgres
import TroupeSQLite
import TroupeStore
import TroupeVault

extension Runtime {
    /// The store drivers this program links, by URL scheme: every store the runtime, `doctor`,
    /// `migrate` and `reconcile` open is opened through one of them.
    public static let storeDrivers = StoreDrivers([SQLiteDriver(), PostgresDriver()])

    /// Opens the configured store: the home's SQLite file, or the PostgreSQL server of
    /// `storage.url` (the same contract; see StorageContract.swift).
    static func openStore(_ configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> any MemoryStore & MigrationEndpoint
    {
        let storage = configuration.runtime.storage
        let address = try storeAddress(storage, home: configuration.location.home, environment: environment)
        var options = StoreOptions(busyTimeout: storage.busyTimeout, connections: storage.connections, syncsEveryCommit: storage.synchronous != .normal)
        let home = configuration.location.home
        if !Vault.exists(home: home), storage.encrypt {
            // A new home is made encrypted: its vault first, then its store sealed from the first
            // write. A store that exists in plain text is left as it is and the vault undone.
            let driver = try storeDrivers.driver(for: address)
            if driver.isServer || driver.notCreatedYet(address) != nil {
                options.sealer = try Vault.create(directory: Vault.directory(home: home), source: masterKeySource(storage, home: home), environment: environment)
                do { return try driver.open(address, options: options) } catch {
                    try? FileManager.default.removeItem(at: Vault.directory(home: home).appendingPathComponent("keyring.json"))
                    throw error
                }
            }
        }
        options.sealer = try sealer(configuration, environment: environment)
        return try storeDrivers.open(address, options: options)
    }

    /// The home's vault when it has one (its store is encrypted), else nothing sealing.
    public static func sealer(_ configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> any RecordSealer
    {
        let home = configuration.location.home
        guard Vault.exists(home: home) else { return PlainSealer() }
        return try Vault(
            directory: Vault.directory(home: home), source: masterKeySource(configuration.runtime.storage, home: home), environment: environment)
    }

    /// Where the master key of the home's vault comes from: the configured variable or command,
    /// else the home's key file.
    public static func masterKeySource(_ storage: RuntimeConfig.Storage, home: URL) -> MasterKeySource {
        if let name = storage.vaultKeyEnv { return .environment(name) }
        if let command = storage.vaultKeyCommand { return .command(command) }
        return .file(Vault.keyFile(home: home))
    }

    /// Where `storage` puts the store: `sqlite:` and the home's file, or `storage.url` with its
    /// schema and the password read from the variable `storage.password_env` names.
    public static func storeAddress(_ storage: RuntimeConfig.Storage, home: URL, environment: [String: String]) throws -> StoreAddress {
        switch storage.backend {
        case .sqlite:
            return StoreAddress("sqlite:" + (storage.database.hasPrefix("/") ? storage.database : home.appendingPathComponent(storage.database).path))
        case .postgres:
            guard let url = storage.url else {
                throw TroupeError(.invalidConfig, "'storage.backend: postgres' needs 'storage.url' (postgres://user@host:port/db)")
            }
            return StoreAddress(url, schema: storage.schema, password: try password(storage.passwordEnv, environment: environment))
        }
    }

    /// The value of the variable `variable` names, if it names one.
    private static func password(_ variable: String?, environment: [String: String]) throws -> String? {
        guard let variable else { return nil }
        guard let value = environment[variable] else {
            throw TroupeError(.invalidConfig, "'storage.password_env' names \(variable), which is not set in the environment")
        }
        return value
    }

    /// Where the store lives: the SQLite file, or the PostgreSQL server (without a password).
    public var storePath: String {
        if let fileStore { return fileStore.path }
        return (store as? any ServerStore)?.displayedLocation ?? "?"
    }
}

extension Runtime {
    /// A store `troupe migrate` names: `sqlite:PATH`, a `postgres://` URL (in `schema`, with the
    /// password from the variable `passwordEnv` names), or, for `nil`, the configured store.
    public static func migrationEndpoint(
        _ spec: String?, configuration: Configuration, schema: String?, passwordEnv: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any MigrationEndpoint {
        guard let spec else { return try openStore(configuration, environment: environment) }
        return try migrationEndpoint(
            spec, storage: configuration.runtime.storage, sealer: try sealer(configuration, environment: environment), schema: schema,
            passwordEnv: passwordEnv, environment: environment)
    }

    /// The store `spec` names (any scheme of ``storeDrivers``), opened with `storage`'s settings.
    static func migrationEndpoint(
        _ spec: String, storage: RuntimeConfig.Storage, sealer: any RecordSealer, schema: String?, passwordEnv: String?,
        environment: [String: String]
    ) throws -> any MigrationEndpoint {
        var address = StoreAddress(spec, schema: schema)
        let driver = try storeDrivers.driver(for: address)
        if driver.isServer { address.password = try password(passwordEnv, environment: environment) }
        var options = StoreOptions(busyTimeout: storage.busyTimeout, connections: 2)
        // A store named beside an encrypted home's is read and made with the home's vault:
        // sealed values move between stores as they are.
        options.sealer = sealer
        return try driver.open(address, options: options)
    }
}
