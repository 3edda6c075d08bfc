import Foundation
import TroupeCore
import TroupeStore

/// The formation queue (FormationQueueStore.swift) in table `formation_job`, shared by every
/// process of the store. A claim locks the free rows it takes with `FOR UPDATE SKIP LOCKED`: a
/// second claimant at the same moment passes over them to the next free ones instead of
/// waiting, and one that finds a row just taken sees its new lease and leaves it.
extension PostgresStore: FormationQueueStore {
    /// The queue's table, created with the schema, or added to a `pg-v1` store when it is opened.
    static let formationSQL = """
        CREATE TABLE formation_job (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
            persona TEXT COLLATE "C" NOT NULL,
            conversation TEXT NOT NULL,
            turn BIGINT NOT NULL,
            said BYTEA NOT NULL,
            enqueued_at BIGINT NOT NULL,
            claimed_by TEXT,
            lease_until BIGINT,
            attempts BIGINT NOT NULL
        );
        """

    public func enqueueFormation(_ job: QueuedFormation) async throws -> Bool {
        let said = try sealer.seal(text: job.said, at: job.place)
        return try await write("write a formation job down") { c, _ in
            try c.execute("""
                INSERT INTO formation_job (id, persona, conversation, turn, said, enqueued_at, claimed_by, lease_until, attempts)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING
                """, [
                    .text(job.id), .text(job.persona), .text(job.conversation), .int(Int64(job.turn)), .bytes(said),
                    .int(job.enqueuedAt.millisecondsSince1970), job.holder.map(PGValue.text) ?? .null,
                    job.leaseUntil.map { .int($0.millisecondsSince1970) } ?? .null, .int(Int64(job.attempts)),
                ]).affected == 1
        }
    }

    public func claimFormations(owner: String, personas: [String], at time: Date, until: Date, limit: Int) async throws -> [QueuedFormation] {
        guard !personas.isEmpty, limit > 0 else { return [] }
        let rows = try await write("claim formation jobs") { c, _ in
            try c.execute("""
                UPDATE formation_job AS j SET claimed_by = $1, lease_until = $2, attempts = j.attempts + 1
                FROM (
                    SELECT seq FROM formation_job
                    WHERE (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3) AND persona = ANY($4::text[])
                    ORDER BY seq LIMIT $5 FOR UPDATE SKIP LOCKED
                ) AS free
                WHERE j.seq = free.seq
                RETURNING j.*
                """, [.text(owner), .int(until.millisecondsSince1970), .int(time.millisecondsSince1970), .texts(personas), .int(Int64(limit))]).rows
        }
        // RETURNING keeps no order.
        return try rows.sorted { try $0.int("seq") < $1.int("seq") }.map { try formation($0) }
    }

    public func renewFormations(_ ids: [String], owner: String, until: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await write("renew formation leases") { c, _ in
            Set(try c.execute(
                "UPDATE formation_job SET lease_until = $1 WHERE claimed_by = $2 AND id = ANY($3::text[]) RETURNING id",
                [.int(until.millisecondsSince1970), .text(owner), .texts(ids)]
            ).rows.map { try $0.string("id") })
        }
    }

    public func finishFormation(_ id: String, owner: String) async throws -> Bool {
        try await write("mark a formation job done") { c, _ in
            try c.execute("DELETE FROM formation_job WHERE id = $1 AND claimed_by = $2", [.text(id), .text(owner)]).affected == 1
        }
    }

    public func releaseFormations(_ ids: [String], owner: String) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await write("hand formation jobs back") { c, _ in
            try c.execute(
                "UPDATE formation_job SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND id = ANY($2::text[])",
                [.text(owner), .texts(ids)]
            ).affected
        }
    }

    public func pendingFormations() async throws -> [QueuedFormation] {
        try await read("read the formation queue") { c in
            try c.execute("SELECT * FROM formation_job ORDER BY seq").rows.map { try self.formation($0) }
        }
    }

    public func dropFormations(persona: String) async throws -> Int {
        try await write("drop a persona's formation jobs") { c, _ in
            try c.execute("DELETE FROM formation_job WHERE persona = $1", [.text(persona)]).affected
        }
    }

    private func formation(_ row: PGRow) throws -> QueuedFormation {
        QueuedFormation(
            id: try row.string("id"), persona: try row.string("persona"), conversation: try row.string("conversation"),
            turn: Int(try row.int("turn")), said: try sealer.open(text: try row.bytes("said"), at: QueuedFormation.place(persona: try row.string("persona"), id: try row.string("id"))),
            enqueuedAt: Date(millisecondsSince1970: try row.int("enqueued_at")), holder: row.optionalString("claimed_by"),
            leaseUntil: row.optionalInt("lease_until").map(Date.init(millisecondsSince1970:)), attempts: Int(try row.int("attempts")))
    }
}
