import Foundation
import TroupeCore
import TroupePostgres
import TroupeStore
import TroupeStoreConformance

/// One scratch PostgreSQL server per test process, started on first use; each store made on it
/// gets a schema of its own, so checks running at once never see each other's rows.
///
/// Starting a server (initdb, `pg_ctl -w`) and opening a store (libpq connects and migrates
/// synchronously) block for milliseconds to seconds: both run off the cooperative pool, which
/// every other test running at the same time needs meanwhile.
public enum TestPostgres {
    private static let server = MadeOnce("troupe-test.postgres.start") { try ScratchPostgres() }

    /// The server (started now if it is not running yet; concurrent first callers wait for the same one).
    public static func shared() async throws -> ScratchPostgres { try await server.value() }

    /// A location in a new, empty schema of the shared server.
    public static func freshLocation() async throws -> PostgresLocation {
        PostgresLocation(url: try await shared().url, schema: "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())
    }

    /// A new, empty store on the shared server.
    public static func freshStore(sealer: any RecordSealer = PlainSealer()) async throws -> PostgresStore {
        try await open(try await freshLocation(), connections: 2, sealer: sealer)
    }

    /// Opens a store at `location` (``PostgresStore/init(location:sealer:connections:reconnectWindow:)``), off the pool.
    public static func open(
        _ location: PostgresLocation, connections: Int = 4, reconnectWindow: Double = 10, sealer: any RecordSealer = PlainSealer()
    ) async throws -> PostgresStore {
        try await offThePool("troupe-test.postgres.open") {
            try PostgresStore(location: location, sealer: sealer, connections: connections, reconnectWindow: reconnectWindow)
        }
    }

    /// Runs `body` with a server of its own (to stop, crash and start again), started off the
    /// pool; the server is stopped and removed afterwards, also when `body` throws.
    public static func withScratchServer<T>(_ body: (ScratchPostgres) async throws -> T) async throws -> T {
        let server = try await offThePool("troupe-test.postgres.start") { try ScratchPostgres() }
        return try await withCleanup {
            try await body(server)
        } cleanup: {
            _ = try? await offThePool("troupe-test.postgres.stop") { server.stop() }
        }
    }
}
