import Foundation
import TroupeCore
import TroupeStore

/// Opens `postgres://` and `postgresql://` URLs: a store in a schema of a PostgreSQL server.
public struct PostgresDriver: StoreDriver {
    public init() {}

    public var schemes: [String] { ["postgres", "postgresql"] }
    public var form: String { "a postgres:// URL" }
    public var isServer: Bool { true }

    public func open(_ address: StoreAddress, options: StoreOptions) throws -> any MemoryStore & MigrationEndpoint {
        try PostgresStore(
            location: Self.location(address), sealer: options.sealer, connections: options.connections, reconnectWindow: options.reconnectWindow)
    }

    /// The URL without its password, and the schema when one is named.
    public func displayed(_ address: StoreAddress) -> String {
        PostgresLocation(url: address.spec).displayed + (address.schema.map { " (schema \($0))" } ?? "")
    }

    static func location(_ address: StoreAddress) -> PostgresLocation {
        PostgresLocation(url: address.spec, password: address.password, schema: address.schema)
    }
}

extension PostgresStore: ServerStore, ChangeAnnouncingStore {
    public var displayedLocation: String { location.displayed }
    public var serverDescription: String { "PostgreSQL \(serverVersion / 10000).\(serverVersion % 10000)" }
    public func changeListener() -> any StoreChangeListener { PostgresChangeListener(store: self) }
}

extension PostgresChangeListener: StoreChangeListener {}
