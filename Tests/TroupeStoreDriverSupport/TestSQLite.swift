import Foundation
import TroupeCore
import TroupeSQLite
import TroupeStore

/// SQLite stores for tests, opened off the cooperative pool: opening one takes the file's lock
/// (held by another store or process that is migrating it), migrates and syncs, all synchronously.
public enum TestSQLite {
    /// Opens (creating and migrating) the store at `path`.
    public static func open(_ path: String, sealer: any RecordSealer = PlainSealer()) async throws -> SQLiteStore {
        try await offThePool("troupe-test.sqlite.open") { try SQLiteStore(path: path, sealer: sealer) }
    }
}
