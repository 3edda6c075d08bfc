import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// The formation queue (FormationQueueStore.swift) in table `formation_job`. Each call is one
/// write transaction, which SQLite's single writer serialises across every process of the
/// file: a claim reads the free jobs and takes them before any other claimant can look.
extension SQLiteStore: FormationQueueStore {
    public func enqueueFormation(_ job: QueuedFormation) async throws -> Bool {
        let said = try sealer.seal(text: job.said, at: job.place)
        return try await write("write a formation job down") { db in
            try db.execute(
                sql: """
                    INSERT INTO formation_job (id, persona, conversation, turn, said, enqueued_at, claimed_by, lease_until, attempts)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
                    """,
                arguments: [
                    job.id, job.persona, job.conversation, job.turn, said, job.enqueuedAt.millisecondsSince1970, job.holder,
                    job.leaseUntil?.millisecondsSince1970, job.attempts,
                ])
            return db.changesCount > 0
        }
    }

    public func claimFormations(owner: String, personas: [String], at time: Date, until: Date, limit: Int) async throws -> [QueuedFormation] {
        guard !personas.isEmpty, limit > 0 else { return [] }
        return try await write("claim formation jobs") { db in
            let marks = personas.map { _ in "?" }.joined(separator: ", ")
            let free = try Int64.fetchAll(
                db,
                sql: """
                    SELECT seq FROM formation_job WHERE (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= ?)
                    AND persona IN (\(marks)) ORDER BY seq LIMIT ?
                    """,
                arguments: StatementArguments([time.millisecondsSince1970] + personas.map { $0 as any DatabaseValueConvertible } + [limit]))
            guard !free.isEmpty else { return [] }
            let seqs = free.map { String($0) }.joined(separator: ", ")
            try db.execute(
                sql: "UPDATE formation_job SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 WHERE seq IN (\(seqs))",
                arguments: [owner, until.millisecondsSince1970])
            return try Row.fetchAll(db, sql: "SELECT * FROM formation_job WHERE seq IN (\(seqs)) ORDER BY seq").map { try self.formation($0) }
        }
    }

    public func renewFormations(_ ids: [String], owner: String, until: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await write("renew formation leases") { db in
            var held: Set<String> = []
            for chunk in ids.chunked(500) {
                let marks = chunk.map { _ in "?" }.joined(separator: ", ")
                let arguments = StatementArguments([owner] + chunk)
                held.formUnion(try String.fetchAll(db, sql: "SELECT id FROM formation_job WHERE claimed_by = ? AND id IN (\(marks))", arguments: arguments))
                try db.execute(
                    sql: "UPDATE formation_job SET lease_until = ? WHERE claimed_by = ? AND id IN (\(marks))",
                    arguments: [until.millisecondsSince1970] + arguments)
            }
            return held
        }
    }

    public func finishFormation(_ id: String, owner: String) async throws -> Bool {
        try await write("mark a formation job done") { db in
            try db.execute(sql: "DELETE FROM formation_job WHERE id = ? AND claimed_by = ?", arguments: [id, owner])
            return db.changesCount > 0
        }
    }

    public func releaseFormations(_ ids: [String], owner: String) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await write("hand formation jobs back") { db in
            var released = 0
            for chunk in ids.chunked(500) {
                try db.execute(
                    sql: """
                        UPDATE formation_job SET claimed_by = NULL, lease_until = NULL
                        WHERE claimed_by = ? AND id IN (\(chunk.map { _ in "?" }.joined(separator: ", ")))
                        """,
                    arguments: StatementArguments([owner] + chunk))
                released += db.changesCount
            }
            return released
        }
    }

    public func pendingFormations() async throws -> [QueuedFormation] {
        try await read("read the formation queue") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM formation_job ORDER BY seq").map { try self.formation($0) }
        }
    }

    public func dropFormations(persona: String) async throws -> Int {
        try await write("drop a persona's formation jobs") { db in
            try db.execute(sql: "DELETE FROM formation_job WHERE persona = ?", arguments: [persona])
            return db.changesCount
        }
    }

    private func formation(_ row: Row) throws -> QueuedFormation {
        QueuedFormation(
            id: row["id"], persona: row["persona"], conversation: row["conversation"], turn: row["turn"], said: try sealer.open(text: row["said"], at: QueuedFormation.place(persona: row["persona"], id: row["id"])),
            enqueuedAt: Date(millisecondsSince1970: row["enqueued_at"]), holder: row["claimed_by"],
            leaseUntil: (row["lease_until"] as Int64?).map { Date(millisecondsSince1970: $0) }, attempts: row["attempts"])
    }
}
