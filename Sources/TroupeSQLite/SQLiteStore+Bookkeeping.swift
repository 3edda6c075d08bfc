import Foundation
import GRDB
import TroupeCore
import TroupeStore

extension SQLiteStore {
    public func touch(_ ids: [String], at time: Date) async throws {
        // A read-only store can still be recalled from; it just keeps no access marks.
        guard !ids.isEmpty, !isReadOnly else { return }
        do {
            try await pool.writeWithoutTransaction { db in
                // Access marks are bookkeeping on the recall path: committed without an fsync
                // (they survive a crashed process, and may be lost with power), so a recall never
                // waits for the disk. Every other write keeps the configured durability.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(self.synchronous.rawValue.uppercased())") }
                try db.inTransaction(.immediate) {
                    // One statement per number of uses (nearly always just "once").
                    let uses = ids.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
                    for (times, group) in Dictionary(grouping: uses.keys.sorted(), by: { uses[$0]! }).sorted(by: { $0.key < $1.key }) {
                        let marks = Array(repeating: "?", count: group.count).joined(separator: ",")
                        try db.execute(
                            sql: "UPDATE memory SET last_accessed_at = ?, access_count = access_count + ? WHERE id IN (\(marks))",
                            arguments: StatementArguments([time.millisecondsSince1970, Int64(times)] + group.map { $0 as any DatabaseValueConvertible }))
                    }
                    return .commit
                }
            }
            checkpointer.noteLightCommit()
        } catch {
            throw TroupeError(.storage, "cannot mark records as used", context: path, cause: StoreFailure(error))
        }
    }

    public func sliceVersions(owners: [PersonaID], slices: [SliceKind]) async throws -> [String: Int64] {
        guard !owners.isEmpty, !slices.isEmpty else { return [:] }
        return try await read("read slice versions") { db in
            let (conditions, arguments) = Self.filter(MemoryQuery(owners: owners, slices: slices), prefix: "")
            var versions: [String: Int64] = [:]
            for owner in owners { for slice in slices { versions["\(owner)/\(slice.rawValue)"] = 0 } }
            for row in try Row.fetchAll(
                db, sql: "SELECT owner, slice, version FROM slice_version WHERE \(conditions.joined(separator: " AND "))",
                arguments: StatementArguments(arguments))
            {
                versions["\(row["owner"] as String)/\(row["slice"] as String)"] = row["version"]
            }
            return versions
        }
    }

    public func extendExpiry(_ ids: [String], to time: Date) async throws -> Int {
        guard !ids.isEmpty, !isReadOnly else { return 0 }
        do {
            let moved = try await pool.writeWithoutTransaction { db in
                // Bookkeeping on the read path, committed like `touch`: without an fsync.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(self.synchronous.rawValue.uppercased())") }
                var moved = 0
                try db.inTransaction(.immediate) {
                    for chunk in ids.chunked(500) {
                        let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                        try db.execute(
                            sql: "UPDATE memory SET expires_at = ? WHERE slice = 'working' AND expires_at < ? AND id IN (\(marks))",
                            arguments: StatementArguments([time.millisecondsSince1970, time.millisecondsSince1970] + chunk.map { $0 }))
                        moved += db.changesCount
                    }
                    return .commit
                }
                return moved
            }
            checkpointer.noteLightCommit()
            return moved
        } catch {
            throw TroupeError(.storage, "cannot refresh working memory", context: path, cause: StoreFailure(error))
        }
    }

    // MARK: Maintenance

    /// `PRAGMA integrity_check` plus the vectors' consistency with their records; empty when all
    /// is well.
    public func integrityProblems() async throws -> [String] {
        try await pool.read { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            // A vector belongs to a current record and says which model made it, as the record
            // does: both are written in one transaction, so a crash leaves both or neither.
            let orphans = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM memory_vector WHERE seq NOT IN (SELECT seq FROM memory)") ?? 0
            let mismatched = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM memory m JOIN memory_vector v ON v.seq = m.seq WHERE m.model IS NOT v.model
                """) ?? 0
            if orphans > 0 { problems.append("\(orphans) vectors without a record") }
            if mismatched > 0 { problems.append("\(mismatched) records whose model differs from their vector's") }
            return problems
        }
    }

    /// Writes a consistent copy of the whole store to `path` (a new file), while writers go on:
    /// the start of a sandboxed or resumable session.
    public func copy(to path: String) async throws {
        do {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        } catch {
            throw TroupeError(.storage, "cannot copy the store", context: path, cause: StoreFailure(error))
        }
    }
}
