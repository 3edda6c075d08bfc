import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

extension Runtime {
    /// Opens the configured store: the home's SQLite file, or the PostgreSQL server of
    /// `storage.url` (the same contract; see StorageContract.swift). The SQLite store is also
    /// returned on its own, for what only a file can do (sessions copy it).
    static func openStore(_ configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (any MemoryStore, SQLiteStore?)
    {
        let storage = configuration.runtime.storage
        switch storage.backend {
        case .sqlite:
            let store = try SQLiteStore(
                path: databasePath(configuration), busyTimeout: storage.busyTimeout,
                synchronous: storage.synchronous == .normal ? .normal : .full)
            return (store, store)
        case .postgres:
            let store = try PostgresStore(
                location: try postgresLocation(storage, environment: environment), connections: storage.connections,
                reconnectWindow: storage.busyTimeout)
            return (store, nil)
        }
    }

    /// Where `storage` puts a PostgreSQL store, with the password read from the variable
    /// `storage.password_env` names.
    public static func postgresLocation(_ storage: RuntimeConfig.Storage, environment: [String: String]) throws -> PostgresLocation {
        guard let url = storage.url else {
            throw TroupeError(.invalidConfig, "'storage.backend: postgres' needs 'storage.url' (postgres://user@host:port/db)")
        }
        var password: String?
        if let variable = storage.passwordEnv {
            guard let value = environment[variable] else {
                throw TroupeError(.invalidConfig, "'storage.password_env' names \(variable), which is not set in the environment")
            }
            password = value
        }
        return PostgresLocation(url: url, password: password, schema: storage.schema)
    }

    /// Where the store lives: the SQLite file, or the PostgreSQL server (without a password).
    public var storePath: String {
        if let sqlite { return sqlite.path }
        return (store as? PostgresStore)?.location.displayed ?? "?"
    }
}

extension Runtime {
    /// A store `troupe migrate` names: `sqlite:PATH`, a `postgres://` URL (in `schema`, with the
    /// password from the variable `passwordEnv` names), or, for `nil`, the configured store.
    public static func migrationEndpoint(
        _ spec: String?, configuration: Configuration, schema: String?, passwordEnv: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any MigrationEndpoint {
        guard let spec else {
            guard let store = try openStore(configuration, environment: environment).0 as? any MigrationEndpoint else {
                throw TroupeError(.invalidInput, "the configured store cannot be migrated")
            }
            return store
        }
        return try migrationEndpoint(spec, storage: configuration.runtime.storage, schema: schema, passwordEnv: passwordEnv, environment: environment)
    }

    /// The store `spec` names (`sqlite:PATH` or a `postgres://` URL), opened with `storage`'s
    /// settings.
    static func migrationEndpoint(
        _ spec: String, storage: RuntimeConfig.Storage, schema: String?, passwordEnv: String?, environment: [String: String]
    ) throws -> any MigrationEndpoint {
        if spec.hasPrefix("sqlite:") {
            let path = String(spec.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw TroupeError(.invalidInput, "'sqlite:' needs a path (sqlite:/path/to/memory.sqlite)") }
            return try SQLiteStore(path: path, busyTimeout: storage.busyTimeout)
        }
        guard spec.hasPrefix("postgres://") || spec.hasPrefix("postgresql://") else {
            throw TroupeError(.invalidInput, "'\(spec)' is neither sqlite:PATH nor a postgres:// URL")
        }
        var storage = storage
        (storage.url, storage.schema, storage.passwordEnv) = (spec, schema, passwordEnv)
        return try PostgresStore(
            location: try postgresLocation(storage, environment: environment), connections: 2, reconnectWindow: storage.busyTimeout)
    }
}
