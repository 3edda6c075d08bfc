import Foundation
import TroupeCore
import TroupeStore

/// Opens `sqlite:PATH`: a store in one file on this machine.
public struct SQLiteDriver: StoreDriver {
    public init() {}

    public var schemes: [String] { ["sqlite"] }
    public var form: String { "sqlite:PATH" }
    public var isServer: Bool { false }

    public func open(_ address: StoreAddress, options: StoreOptions) throws -> any MemoryStore & MigrationEndpoint {
        try SQLiteStore(
            path: try Self.path(address), sealer: options.sealer, busyTimeout: options.busyTimeout,
            synchronous: options.syncsEveryCommit ? .full : .normal)
    }

    public func notCreatedYet(_ address: StoreAddress) -> String? {
        guard let path = try? Self.path(address), !FileManager.default.fileExists(atPath: path) else { return nil }
        return path
    }

    /// A SQLite store is named by its spec as written.
    public func displayed(_ address: StoreAddress) -> String { address.spec }

    private static func path(_ address: StoreAddress) throws -> String {
        guard !address.rest.isEmpty else { throw TroupeError(.invalidInput, "'sqlite:' needs a path (sqlite:/path/to/memory.sqlite)") }
        return address.rest
    }
}

extension SQLiteStore: FileStore {}
