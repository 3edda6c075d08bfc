import Foundation
import TroupeStore

/// One scratch PostgreSQL server per test process, started on first use; each store made on it
/// gets a schema of its own, so checks running at once never see each other's rows.
public enum TestPostgres {
    private static let server = Result { try ScratchPostgres() }

    /// The server (started now if it is not running yet).
    public static func shared() throws -> ScratchPostgres { try server.get() }

    /// A location in a new, empty schema of the shared server.
    public static func freshLocation() throws -> PostgresLocation {
        PostgresLocation(url: try shared().url, schema: "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())
    }

    /// A new, empty store on the shared server.
    public static func freshStore() throws -> PostgresStore {
        try PostgresStore(location: try freshLocation(), connections: 2)
    }
}

/// Runs blocking work (pg_ctl, waiting for a process) on a thread of its own, not on Swift's
/// cooperative pool, which the code under test needs meanwhile.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
