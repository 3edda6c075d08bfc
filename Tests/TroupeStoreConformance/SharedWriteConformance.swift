import Foundation
import Testing
import TroupeCore
import TroupeStore

/// Shared writes and their conflict policies, the same on every store.
public enum SharedWriteConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("writesBasedOnTheCurrentVersionApplyWithoutAudit", writesBasedOnTheCurrentVersionApplyWithoutAudit),
        ConformanceCheck("lastWriterWinsOverwritesAndKeepsTheOldVersion", lastWriterWinsOverwritesAndKeepsTheOldVersion),
        ConformanceCheck("priorityKeepsTheHigherWriterAndTheLosingValue", priorityKeepsTheHigherWriterAndTheLosingValue),
        ConformanceCheck("keepBothMakesALinkedRecordAndChangesNothingElse", keepBothMakesALinkedRecordAndChangesNothingElse),
        ConformanceCheck("rejectChangesNothingButKeepsTheValueAndTheAudit", rejectChangesNothingButKeepsTheValueAndTheAudit),
        ConformanceCheck("aFailingWriteFailsAloneAndLeavesNothing", aFailingWriteFailsAloneAndLeavesNothing),
        ConformanceCheck("forgetRemovesLostValuesAndLinksButNotTheAudit", forgetRemovesLostValuesAndLinksButNotTheAudit),
    ]

    /// Persona priorities, as the coordinator passes them.
    static let priorities = ["athena": 90, "artemis": 60, "hestia": 60]

    static func write(
        _ id: String?, base: Int, by writer: PersonaID, _ content: String, policy: ConflictPolicy = .lastWriterWins,
        vector: EmbeddedVector? = nil
    ) -> SharedWrite {
        SharedWrite(
            id: id, owner: "team-decisions", slice: .semantic, writer: writer, baseVersion: base,
            change: MemoryChange(content: content), policy: policy, vector: vector)
    }

    static func one(_ store: any MemoryStore, _ w: SharedWrite, at offset: TimeInterval = 0) async throws -> SharedWriteOutcome {
        try await store.writeShared([w], priorities: priorities, at: t0.addingTimeInterval(offset))[0].get()
    }

    /// A record at version 2, written last by athena (priority 90).
    static func seeded(_ store: any MemoryStore, policy: ConflictPolicy) async throws {
        _ = try await one(store, write("d1", base: 0, by: "artemis", "Use SQLite.", policy: policy))
        _ = try await one(store, write("d1", base: 1, by: "athena", "Use SQLite in WAL mode.", policy: policy), at: 1)
    }

    static func writesBasedOnTheCurrentVersionApplyWithoutAudit(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .reject)
        let current = try #require(try await store.get("d1"))
        #expect(current.version == 2 && current.source == "athena" && current.content == "Use SQLite in WAL mode.")
        #expect(current.owner == "team-decisions")
        #expect(try await store.audit(AuditQuery()).isEmpty)
        let fresh = try await one(store, write(nil, base: 0, by: "hestia", "A new decision."))
        #expect(fresh.kind == .applied && fresh.current.version == 1 && fresh.current.id.hasPrefix("m-"))
    }

    static func lastWriterWinsOverwritesAndKeepsTheOldVersion(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .lastWriterWins)
        let outcome = try await one(store, write("d1", base: 1, by: "artemis", "Use Postgres.", policy: .lastWriterWins), at: 2)
        #expect(outcome.kind == .overwrote && outcome.current.version == 3 && outcome.current.content == "Use Postgres.")
        let history = try await store.history("d1")
        #expect(history.versions.map(\.content) == ["Use SQLite.", "Use SQLite in WAL mode.", "Use Postgres."])
        let audit = try await store.audit(AuditQuery(slice: "team-decisions"))
        #expect(audit.count == 1)
        #expect(audit[0].writer == "artemis" && audit[0].baseVersion == 1 && audit[0].currentVersion == 2)
        #expect(audit[0].outcome == .overwrite && audit[0].policy == .lastWriterWins)
        #expect(audit[0].kept == ["d1@v3"] && audit[0].superseded == ["d1@v2"])
    }

    static func priorityKeepsTheHigherWriterAndTheLosingValue(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .priority)
        // artemis (60) is below athena (90), who wrote version 2: athena's value stays.
        let lost = try await one(store, write("d1", base: 1, by: "artemis", "Use Postgres.", policy: .priority), at: 2)
        #expect(lost.kind == .keptCurrent && lost.current.version == 2 && lost.current.source == "athena")
        #expect(try await store.get("d1")?.content == "Use SQLite in WAL mode.")
        let history = try await store.history("d1")
        #expect(history.lost.map(\.content) == ["Use Postgres."])
        #expect(history.lost[0].writer == "artemis" && history.lost[0].outcome == .keepCurrent && history.lost[0].audit == lost.audit)
        // Now artemis writes on top (not stale), then hestia (equal priority, 60) writes stale:
        // equal priority goes to the later write.
        let v3 = try await one(store, write("d1", base: 2, by: "artemis", "Use SQLite, checked.", policy: .priority), at: 3)
        #expect(v3.kind == .applied)
        let tie = try await one(store, write("d1", base: 2, by: "hestia", "Use SQLite, reviewed.", policy: .priority), at: 4)
        #expect(tie.kind == .overwrote && tie.current.content == "Use SQLite, reviewed." && tie.current.version == 4)
        let audit = try await store.audit(AuditQuery(record: "d1"))
        #expect(audit.map(\.outcome) == [.overwrite, .keepCurrent])
        #expect(audit[1].superseded == ["d1#\(lost.audit!)"])
    }

    static func keepBothMakesALinkedRecordAndChangesNothingElse(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .keepBoth)
        let vector = EmbeddedVector(model: "m", values: [1, 0, 0])
        let outcome = try await one(store, write("d1", base: 1, by: "artemis", "Use Postgres.", policy: .keepBoth, vector: vector), at: 2)
        #expect(outcome.kind == .keptBoth && outcome.current.version == 2)
        let sibling = try #require(outcome.sibling)
        #expect(sibling.content == "Use Postgres." && sibling.source == "artemis" && sibling.version == 1 && sibling.id.hasPrefix("d1~"))
        #expect(try await store.get(sibling.id)?.modelID == "m" && sibling.modelID == "m")
        #expect(try await store.indexEntries(ids: [sibling.id], model: "m").first?.vector == [1, 0, 0])
        #expect(try await store.get("d1")?.content == "Use SQLite in WAL mode.")
        #expect(try await store.history("d1").links.map(\.other) == [sibling.id])
        #expect(try await store.history(sibling.id).links.map(\.other) == ["d1"])
        let audit = try await store.audit(AuditQuery())
        #expect(audit.count == 1 && audit[0].kept == ["d1@v2", "\(sibling.id)@v1"] && audit[0].superseded.isEmpty)
    }

    static func rejectChangesNothingButKeepsTheValueAndTheAudit(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .reject)
        let outcome = try await one(store, write("d1", base: 1, by: "athena", "Use Postgres.", policy: .reject), at: 2)
        #expect(outcome.kind == .rejected && outcome.current.version == 2)
        #expect(try await store.get("d1")?.version == 2)
        let history = try await store.history("d1")
        #expect(history.versions.count == 2 && history.lost.map(\.outcome) == [.reject])
        #expect(try await store.audit(AuditQuery()).map(\.outcome) == [.reject])
    }

    static func aFailingWriteFailsAloneAndLeavesNothing(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .lastWriterWins)
        let results = try await store.writeShared([
            write("missing", base: 3, by: "athena", "nothing to update"),
            write("d1", base: 2, by: "artemis", "Use SQLite, settled."),
            SharedWrite(id: "d1", owner: "incident-log", slice: .episodic, writer: "artemis", baseVersion: 3,
                        change: MemoryChange(content: "moved"), policy: .lastWriterWins),
            write("d1", base: 9, by: "artemis", "from the future"),
            write(nil, base: 0, by: "artemis", "   "),
        ], priorities: priorities, at: t0.addingTimeInterval(5))
        #expect((try? results[1].get())?.current.version == 3)
        for (i, code) in [(0, TroupeError.Code.notFound), (2, .invalidInput), (3, .invalidInput), (4, .invalidInput)] {
            guard case .failure(let error) = results[i] else {
                Issue.record("write \(i) should have failed")
                continue
            }
            #expect(error.code == code, "write \(i)")
        }
        #expect(try await store.get("d1")?.content == "Use SQLite, settled.")
        #expect(try await store.stats().total == 1)
    }

    static func forgetRemovesLostValuesAndLinksButNotTheAudit(_ store: any MemoryStore) async throws {
        try await seeded(store, policy: .keepBoth)
        let both = try await one(store, write("d1", base: 1, by: "artemis", "Use Postgres.", policy: .keepBoth), at: 2)
        _ = try await one(store, write("d1", base: 1, by: "athena", "Use MySQL.", policy: .reject), at: 3)
        #expect(try await store.history("d1").lost.count == 1)
        _ = try await store.forget("d1", reason: "test", at: t0.addingTimeInterval(4))
        let gone = try await store.history("d1")
        #expect(gone.forgotten != nil && gone.lost.isEmpty && gone.links.isEmpty)
        #expect(try await store.history(both.sibling!.id).links.isEmpty)
        #expect(try await store.audit(AuditQuery()).count == 2)
    }
}
