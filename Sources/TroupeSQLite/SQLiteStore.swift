import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// The durable store: one SQLite file in WAL mode, shared safely by several processes; it meets
/// the whole storage contract (see StorageContract.swift).
///
/// Every write is one short `BEGIN IMMEDIATE` transaction; a writer that finds the database busy
/// waits (busy timeout) instead of failing with "database is locked".
public final class SQLiteStore: RecordStore, SharedSliceStore, IndexSource, HotTierSupport {
    /// Where the file lives.
    public let path: String
    /// A `DatabasePool` (WAL, readers beside the writer); a read-only `DatabaseQueue` when the
    /// store's directory cannot be written.
    let pool: any DatabaseWriter
    /// The store can be read (recall, export) but not written: its directory is read-only.
    public let isReadOnly: Bool
    public let sealer: any RecordSealer
    let checkpointer: WALCheckpointer
    let synchronous: Synchronous

    /// Durability of a commit.
    public enum Synchronous: String, Sendable {
        /// fsync on every commit: an acknowledged write survives power loss.
        case full
        /// A commit survives a crashed process but may be lost with power.
        case normal
    }

    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    public init(
        path: String, sealer: any RecordSealer = PlainSealer(), busyTimeout: Double = 10,
        synchronous: Synchronous = .full
    ) throws {
        self.path = path
        self.sealer = sealer
        self.synchronous = synchronous
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw TroupeError(.storage, "cannot create the store's directory (\(JSONLReader.reason(error)))", context: directory)
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
            // Deleted content is overwritten, so `forget` leaves nothing in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Checkpoints run beside the writer; see WALCheckpointer.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // When the WAL starts over, it is cut back to this size rather than kept at its peak.
            try db.execute(sql: "PRAGMA journal_size_limit = \(8 << 20)")
        }
        checkpointer = WALCheckpointer(path: path, configuration: config)
        if let access = Self.readOnlyAccess(path) {
            isReadOnly = true
            config.readonly = true
            pool = try Self.openReadOnly(path, access: access, configuration: config, sealer: sealer)
            return
        }
        isReadOnly = false
        pool = try Self.retryingWhileBusy(timeout: busyTimeout) {
            try DatabasePool(path: path, configuration: config)
        }
        // Two processes opening a new file at once must not both create the schema: migrations
        // run under an exclusive advisory lock on a side file.
        let lock = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
        try Self.retryingWhileBusy(timeout: busyTimeout) {
            try Self.migrator(sealer: sealer).migrate(pool)
            try pool.write { db in
                let stored = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'codec'")
                if let stored, stored != sealer.id {
                    throw TroupeError(.storage, SealerMismatch.describe(stored: stored, opening: sealer.id), context: path)
                }
                if stored == nil {
                    try db.execute(sql: "INSERT INTO store_info(key, value) VALUES ('codec', ?)", arguments: [sealer.id])
                }
            }
        }
    }

    /// Opening a brand-new file while another process does the same can meet a lock that the busy
    /// handler does not cover (switching to WAL); such an attempt is retried until `timeout`.
    private static func retryingWhileBusy<T>(timeout: Double, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline
            {
                usleep(20_000)
            } catch let error as DatabaseError {
                throw TroupeError(.storage, "cannot open the store", context: error.resultCode == .SQLITE_BUSY ? "busy" : nil, cause: StoreFailure(error))
            }
        }
    }

    /// How to read a store whose directory this process cannot write (`nil`: it can): an
    /// existing file on a read-only file system is immutable (no writer can exist there);
    /// elsewhere it is opened read-only, which needs its `-shm` beside it.
    private static func readOnlyAccess(_ path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: path), access(directory.isEmpty ? "." : directory, W_OK) != 0 else { return nil }
        var info = statvfs()
        let fileSystemReadOnly = statvfs(path, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0
        return fileSystemReadOnly ? "immutable=1" : "mode=ro"
    }

    private static func openReadOnly(_ path: String, access: String, configuration: Configuration, sealer: any RecordSealer) throws
        -> DatabaseQueue
    {
        let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?" + access
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: uri, configuration: configuration)
            guard try queue.read({ try migrator(sealer: sealer).hasCompletedMigrations($0) }) else {
                throw TroupeError(.storage, "the store is read-only and of an older schema, which only a writable store can upgrade", context: path)
            }
        } catch let error as TroupeError {
            throw error
        } catch {
            throw TroupeError(.storage, "cannot open the read-only store", context: path, cause: StoreFailure(error))
        }
        return queue
    }
}
