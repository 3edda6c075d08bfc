import Foundation
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupeRuntime
import TroupeStore
import TroupeStoreConformance

/// The formation queue in the store: a job written down by a process that ended is formed by
/// another (of the home, or of the same PostgreSQL store) once its lease has run out, runtimes
/// taking on the same jobs form each once, the file older versions kept is moved into the
/// store, and a job that cannot be written down is formed all the same.
@Suite("Formation queue", .serialized)
struct FormationQueueTests {
    func semantic(_ home: Home, _ owner: PersonaID) async throws -> [MemoryRecord] {
        try await home.runtime.store.query(MemoryQuery(owners: [owner], slices: [.semantic]))
    }

    func queueEmpty(_ home: Home) async -> Bool {
        await eventually { (try? await home.runtime.formation.pending().isEmpty) ?? false }
    }

    /// The jobs a runtime's log says it formed, in order.
    func formed(_ lines: LogLines) -> [String] {
        lines.all.compactMap { line in
            guard line.contains("formed memory for turn"), let start = line.range(of: "(job ") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != "," })
        }
    }

    /// A second runtime on the store of `first`: of the same home on SQLite, of another home
    /// (another machine) on PostgreSQL.
    func other(_ first: Home, storage: RuntimeConfig.Storage.Backend, clock: any WallClock, lines: LogLines) async throws -> Home {
        storage == .postgres
            ? try await Home(clock: clock, storage: .postgres, location: first.postgresLocation, logger: lines.logger)
            : try await first.another(clock: clock, logger: lines.logger)
    }

    static func job(_ id: String, _ text: String, persona: String = "hestia", conversation: String = "c-1", turn: Int = 4) -> FormationJob {
        FormationJob(id: id, persona: persona, conversation: conversation, turn: turn, said: [Utterance(text, speaker: "user", source: .person)])
    }

    @Test(arguments: [RuntimeConfig.Storage.Backend.sqlite, .postgres])
    func aJobLeftByAProcessThatEndedIsFormedByAnotherOnceItsLeaseRunsOut(storage: RuntimeConfig.Storage.Backend) async throws {
        let clock = ManualClock()
        let lines = LogLines()
        let first = try await Home(clock: clock, storage: storage)
        let second = try await other(first, storage: storage, clock: clock, lines: lines)
        // As if `first` wrote the job down in its turn, held for a lease, and ended before forming it.
        #expect(await first.runtime.formation.writeDown(Self.job("f-1", "Carla leads the audit team.")))

        // While the lease holds, the job stays the first's.
        await second.runtime.resumeFormation()
        #expect(try await second.runtime.store.pendingFormations().map(\.holder) == [first.runtime.formation.owner])
        #expect(try await semantic(second, "hestia").isEmpty)

        clock.advance(by: second.runtime.formation.lease.term)
        await second.runtime.resumeFormation()
        #expect(await queueEmpty(second))
        #expect(try await semantic(second, "hestia").map(\.content) == ["Carla leads the audit team"])
        #expect(formed(lines) == ["f-1"])
        await second.stop()
        await first.stop()
    }

    /// Two processes of one PostgreSQL store start at once with 24 jobs queued: each job is
    /// formed by one of them, once.
    @Test func runtimesTakingOnTheSameQueueFormEachJobOnce() async throws {
        let (linesA, linesB) = (LogLines(), LogLines())
        let a = try await Home(storage: .postgres, logger: linesA.logger)
        let b = try await Home(storage: .postgres, location: a.postgresLocation, logger: linesB.logger)
        let names = ["Ana", "Bruno", "Carla", "Dario", "Elif", "Farid", "Gita", "Hugo", "Ines", "Jonas", "Kira", "Luis"]
        var ids: [String] = []
        for (i, name) in names.enumerated() {
            for persona in ["athena", "hestia"] {
                let job = Self.job("\(persona)-\(i)", "\(name) has \(i + 2) years of \(persona) audit experience.", persona: persona, conversation: "c-\(i)", turn: 1)
                #expect(try await a.runtime.store.enqueueFormation(job.queued(at: Date(), holder: nil, until: nil)))
                ids.append(job.id)
            }
        }
        async let one: Void = a.runtime.resumeFormation()
        async let two: Void = b.runtime.resumeFormation()
        _ = await (one, two)
        #expect(await queueEmpty(a))
        let (byA, byB) = (formed(linesA), formed(linesB))
        #expect(Set(byA).isDisjoint(with: byB), "formed by both: \(Set(byA).intersection(byB).sorted())")
        #expect((byA + byB).sorted() == ids.sorted(), "A formed \(byA), B formed \(byB)")
        for persona: PersonaID in ["athena", "hestia"] {
            let facts = try await semantic(a, persona).map(\.content)
            #expect(facts.count == names.count && Set(facts).count == facts.count, "\(facts)")
        }
        await a.stop()
        await b.stop()
    }

    @Test func theFileOfAnOlderVersionIsMovedIntoTheStoreOnce() async throws {
        let home = try await Home()
        let file = home.runtime.formation.legacyFile
        let directory = file.deletingLastPathComponent()
        // One job of the oldest form (`speaker` and `message`), one with `said`, one done, a broken line.
        let text = """
            {"conversation":"c-2","id":"f-old","message":"Dario is the new on-call lead.","persona":"hestia","speaker":"user","turn":1}
            {"conversation":"c-3","id":"f-new","persona":"hestia","said":[{"source":"person","speaker":"user","text":"Elif runs the release."}],"turn":2}
            {"conversation":"c-4","id":"f-done","persona":"athena","said":[{"source":"person","speaker":"user","text":"Farid owns billing."}],"turn":3}
            {"done":"f-done"}
            {"conversation":"c-5","id":"f-cut
            """
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try text.writeUnsynced(to: file)
        #expect(try await home.runtime.formation.pending().map(\.id) == ["f-old", "f-new"])
        #expect(!FileManager.default.fileExists(atPath: file.path) && !FileManager.default.fileExists(atPath: directory.path))
        // Imported as free jobs: any process takes them on.
        #expect(try await home.runtime.store.pendingFormations().allSatisfy { $0.holder == nil })

        // A crash after the import and before the removal leaves the file: the next process
        // reads it again and queues nothing twice.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try text.writeUnsynced(to: file)
        let next = try await home.another()
        #expect(try await next.runtime.formation.pending().map(\.id) == ["f-old", "f-new"])
        #expect(!FileManager.default.fileExists(atPath: file.path))

        await next.runtime.resumeFormation()
        #expect(await queueEmpty(next))
        #expect(try await semantic(next, "hestia").map(\.content).sorted() == ["Dario is the new on-call lead", "Elif runs the release"])
        #expect(try await semantic(next, "athena").isEmpty)
        await next.stop()
        await home.stop()
    }

    @Test func aJobThatCannotBeWrittenDownIsStillFormedWithAWarning() async throws {
        let lines = LogLines()
        let home = try await Home(logger: lines.logger)
        // Its id is taken, by another process's job held for an hour.
        let now = home.runtime.clock.now()
        let taken = Self.job("f-1", "Elif runs the release.", conversation: "c-9").queued(at: now, holder: "another", until: now.addingTimeInterval(3600))
        #expect(try await home.runtime.store.enqueueFormation(taken))
        await home.runtime.formation.enqueue(Self.job("f-1", "Carla leads the audit team."), runtime: home.runtime, conversation: nil)
        #expect(try await eventually { try await semantic(home, "hestia").map(\.content) == ["Carla leads the audit team"] })
        #expect(lines.all.contains { $0.contains("is not written down") && $0.contains("a crash before it is done loses it") }, "\(lines.all)")
        // The other process's job is left as it was.
        #expect(try await home.runtime.store.pendingFormations() == [taken])
        await home.stop()
    }
}
