import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    /// What the store holds, in a few numbers that any write changes: the change feed's last
    /// number, the records, their history, the audit log, the formation queue's jobs (not
    /// their leases, which a replacement may move back a little: a job is then at worst formed
    /// twice, which changes nothing the second time), the API keys and their revocations, and
    /// the security log. Equal fingerprints: nothing was written in between.
    public func fingerprint() async throws -> [Int64] {
        do {
            return try await pool.read { db in try Self.fingerprint(db) }
        } catch {
            throw TroupeError(.storage, "cannot read the store's fingerprint", cause: StoreFailure(error))
        }
    }

    private static func fingerprint(_ db: Database) throws -> [Int64] {
        let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT COALESCE(MAX(n), 0) FROM memory_change), (SELECT COUNT(*) FROM memory),
                   (SELECT COUNT(*) FROM memory_version), (SELECT COALESCE(MAX(seq), 0) FROM audit_log),
                   (SELECT COUNT(*) FROM formation_job), (SELECT COALESCE(MAX(seq), 0) FROM formation_job),
                   (SELECT COUNT(*) FROM api_key), (SELECT COUNT(revoked_at) FROM api_key), (SELECT COALESCE(MAX(seq), 0) FROM security_event)
            """)
        return (0..<9).map { row?[$0] ?? 0 }
    }

    /// Makes the store hold exactly what the SQLite file at `path` holds, in one transaction
    /// (SQLite's online backup into this store): other connections, in this process or another,
    /// see the old contents or the new, never a mix, and a crash midway leaves the old. With
    /// `unchangedSince`, refuses (changing nothing) when the store was written after that
    /// ``fingerprint()`` was taken.
    public func replaceContents(from path: String, unchangedSince expected: [Int64]? = nil) async throws {
        let changed: Bool
        do {
            changed = try await pool.writeWithoutTransaction { db in
                if let expected, try Self.fingerprint(db) != expected { return true }
                var configuration = Configuration()
                configuration.readonly = true
                let source = try DatabaseQueue(path: path, configuration: configuration)
                try source.read { from in try from.backup(to: db) }
                try source.close()
                return false
            }
        } catch {
            throw TroupeError(.storage, "cannot replace the store's contents", context: path, cause: StoreFailure(error))
        }
        if changed { throw TroupeError(.conflict, "the store was written to meanwhile; nothing was replaced", context: path) }
    }
}
