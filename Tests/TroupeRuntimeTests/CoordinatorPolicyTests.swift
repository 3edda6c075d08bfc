import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeStore

/// Eight persona tasks write 500 times each, at once, to the same four shared records; every
/// write must be accounted for and the final state must be the one the policy defines.
@Suite("Coordinator policies")
struct CoordinatorPolicyTests {
    /// One write as its caller saw it.
    struct Attempt: Sendable {
        var writer: PersonaID
        var record: String
        var base: Int
        var content: String
        /// The outcome, or `nil` when the write was rejected with a conflict error.
        var kind: SharedWriteOutcome.Kind?
        /// The version the write produced (`applied`, `overwrote`), the current version a
        /// rejection reported, or the linked record (`keptBoth`).
        var version: Int?
        var sibling: String?
    }

    @Test(arguments: [RuntimeConfig.Storage.Backend.sqlite, .postgres], ConflictPolicy.allCases)
    func eightPersonasWritingAtOnceLoseNothing(backend: RuntimeConfig.Storage.Backend, policy: ConflictPolicy) async throws {
        let team = try await Team(on: backend)
        let slice = Team.slices.first { $0.1 == policy }!.0
        let first = try await team.persona("p0")
        var ids: [String] = []
        for i in 0..<4 { ids.append(try await first.share("record \(i) as first written", in: slice).current.id) }
        let records = ids

        let attempts = try await withThrowingTaskGroup(of: [Attempt].self) { group in
            for (k, name) in Team.names.enumerated() {
                group.addTask {
                    let persona = try await team.persona(name)
                    var done: [Attempt] = []
                    for n in 0..<500 {
                        let id = records[(n + k) % 4]
                        let base = try await persona.record(id).version
                        var attempt = Attempt(writer: name, record: id, base: base, content: "\(name) write \(n)")
                        do {
                            let outcome = try await persona.update(id, basedOn: base, change: MemoryChange(content: attempt.content))
                            attempt.kind = outcome.kind
                            attempt.version = outcome.current.version
                            attempt.sibling = outcome.sibling?.id
                        } catch let error as TroupeError where error.code == .conflict {
                            attempt.version = error.currentVersion
                        }
                        done.append(attempt)
                    }
                    return done
                }
            }
            return try await group.reduce(into: [Attempt]()) { $0 += $1 }
        }
        #expect(attempts.count == 4000)

        // The audit has one line per conflict, and there were conflicts to resolve.
        let conflicts = attempts.filter { $0.kind != .applied }
        let audit = try await team.store.audit(AuditQuery(slice: slice))
        #expect(audit.count == conflicts.count)
        #expect(conflicts.count > 100, "only \(conflicts.count) conflicts: the test did not provoke enough")
        #expect(Set(audit.map(\.policy)) == [policy])

        // Every value written is somewhere: a version, a lost value, or a linked record.
        var histories: [String: RecordHistory] = [:]
        for id in records { histories[id] = try await team.store.history(id) }
        for link in histories.values.flatMap(\.links) { histories[link.other] = try await team.store.history(link.other) }
        let kept = histories.values.flatMap { $0.versions.map(\.content) + $0.lost.map(\.content) }
        let written = attempts.map(\.content) + (0..<4).map { "record \($0) as first written" }
        #expect(kept.sorted() == written.sorted())

        // Versions are 1…n with no gaps, and the current one is the last write the store applied.
        for id in records {
            let history = try #require(histories[id])
            #expect(history.versions.map(\.version) == Array(1...history.versions.count))
            let applied = attempts.filter { $0.record == id && ($0.kind == .applied || $0.kind == .overwrote) }
            #expect(history.versions.count == 1 + applied.count)
            if let last = applied.max(by: { $0.version! < $1.version! }) {
                #expect(history.versions.last?.content == last.content)
            }
        }

        let count = { (kind: SharedWriteOutcome.Kind?) in attempts.filter { $0.kind == kind }.count }
        switch policy {
        case .lastWriterWins:
            #expect(count(.keptCurrent) + count(.keptBoth) + count(nil) == 0)
            #expect(histories.values.allSatisfy { $0.lost.isEmpty })
        case .reject:
            #expect(count(.overwrote) + count(.keptCurrent) + count(.keptBoth) == 0)
            #expect(count(nil) == conflicts.count)
            // Each rejection told its writer a newer version to retry on.
            #expect(attempts.filter { $0.kind == nil }.allSatisfy { $0.version! > $0.base })
            #expect(histories.values.flatMap(\.lost).count == count(nil))
            #expect(histories.values.flatMap(\.lost).allSatisfy { $0.outcome == .reject })
        case .keepBoth:
            #expect(count(.overwrote) + count(.keptCurrent) + count(nil) == 0)
            let current = try await team.store.query(MemoryQuery(owners: [slice]))
            #expect(current.count == 4 + count(.keptBoth))
            for attempt in attempts where attempt.kind == .keptBoth {
                #expect(histories[attempt.record]?.links.contains { $0.other == attempt.sibling } == true)
            }
        case .priority:
            #expect(count(.keptBoth) + count(nil) == 0)
            // Each resolution follows from the priorities of the writer and of whoever wrote the
            // version it found, as the history records them.
            for entry in audit {
                let found = try #require(histories[entry.record]?.versions.first { $0.version == entry.currentVersion })
                let (writer, holder) = (team.priority(of: entry.writer), team.priority(of: found.source))
                #expect(entry.outcome == (writer >= holder ? .overwrite : .keepCurrent), "audit #\(entry.seq)")
            }
            #expect(count(.keptCurrent) > 0 && count(.overwrote) > 0)
        }
        // Group commit: far fewer transactions than writes.
        let committed = await team.coordinator.committed
        #expect(committed.writes == 4000 + 4 && committed.commits < committed.writes)
    }
}
