import Foundation
import Testing
import TroupeCore
@testable import TroupePostgres
@testable import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// What the conformance suite cannot show of the formation queue: a job written down is there
/// for every other opening of the store and survives a crash of the server, an older PostgreSQL
/// store gains the queue, and `troupe migrate` copies it while a mirror leaves it out.
@Suite("Formation queue in the stores")
struct FormationQueueStoreTests {
    typealias Q = FormationQueueConformance

    @Test func aJobWrittenDownIsSeenByAnotherOpeningOfTheFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("memory.sqlite").path
        let writer = try await TestSQLite.open(path)
        #expect(try await writer.enqueueFormation(Q.job("a", holder: "writer")))
        // Another process's view: the job is there, held, and not its to take until the lease ends.
        let other = try await TestSQLite.open(path)
        #expect(try await other.pendingFormations() == [Q.job("a", holder: "writer")])
        #expect(try await other.claimFormations(owner: "other", personas: ["athena"], at: t0.addingTimeInterval(30), until: t0.addingTimeInterval(90), limit: 5).isEmpty)
        #expect(try await other.claimFormations(owner: "other", personas: ["athena"], at: t0.addingTimeInterval(60), until: t0.addingTimeInterval(120), limit: 5).map(\.id) == ["a"])
    }

    @Test func aJobWrittenDownSurvivesACrashOfTheServer() async throws {
        try await TestPostgres.withScratchServer { server in
            let store = try await TestPostgres.open(PostgresLocation(url: server.url), connections: 1, reconnectWindow: 120)
            #expect(try await store.enqueueFormation(Q.job("a", holder: "p1")))
            try await offThePool { try server.kill() }
            try await offThePool { try server.start() }
            #expect(try await store.pendingFormations() == [Q.job("a", holder: "p1")])
        }
    }

    @Test func aStoreOfTheFirstPostgresSchemaGainsTheQueueWhenOpened() async throws {
        let location = try await TestPostgres.freshLocation()
        let old = try await TestPostgres.open(location, connections: 1)
        try await old.put(record("r1", content: "written before the queue existed"))
        // As a store made by a version without the queue.
        try await old.read("make the store pg-v1") { c in
            try c.script("DROP TABLE formation_job, api_key, security_event; UPDATE store_info SET value = 'pg-v1' WHERE key = 'schema'")
        }
        let opened = try await TestPostgres.open(location, connections: 1)
        #expect(try await opened.stats().schemaVersion == "pg-v3")
        #expect(try await opened.get("r1")?.content == "written before the queue existed")
        #expect(try await opened.enqueueFormation(Q.job("a")))
        #expect(try await opened.pendingFormations().map(\.id) == ["a"])
    }

    /// SQLite to PostgreSQL and back: queued jobs arrive as they were (claims too), new ones
    /// queue after them, and the verification covers them. A mirror leaves the queue out.
    @Test func migrateCopiesQueuedJobsAndAMirrorLeavesThemOut() async throws {
        let directory = try TemporaryDirectory()
        let source = try await TestSQLite.open(directory.file("source.sqlite").path)
        try await source.put(record("r1", content: "a memory beside the queue"))
        for job in [Q.job("a", at: 1), Q.job("b", holder: "p1", at: 2), Q.job("c", "hestia", at: 3)] { _ = try await source.enqueueFormation(job) }
        _ = try await source.finishFormation("b", owner: "p1")
        _ = try await source.enqueueFormation(Q.job("d", holder: "p2", at: 4))
        let queued = try await source.pendingFormations()

        let postgres = try await TestPostgres.freshStore()
        let there = StoreMigration(from: source, to: postgres)
        let landed = try await there.run { _ in }
        #expect(landed[.formation] == 3)
        #expect(try await there.verify().allSatisfy(\.matches))
        #expect(try await postgres.pendingFormations() == queued)
        #expect(try await postgres.enqueueFormation(Q.job("e", at: 5)))
        #expect(try await postgres.pendingFormations().map(\.id) == ["a", "c", "d", "e"])

        let back = try await TestSQLite.open(directory.file("back.sqlite").path)
        let home = StoreMigration(from: postgres, to: back)
        _ = try await home.run { _ in }
        #expect(try await home.verify().allSatisfy(\.matches))
        #expect(try await back.pendingFormations() == postgres.pendingFormations())

        let mirror = StoreMirror(primary: source, mirror: try await TestSQLite.open(directory.file("mirror.sqlite").path))
        try await mirror.catchUp()
        let differences = try await mirror.reconcile(repair: false)
        #expect(!differences.contains { $0.table == .formation })
        #expect(differences.allSatisfy { $0.total == 0 }, "\(differences)")
        #expect(try await mirror.mirror.pendingFormations().isEmpty)
    }
}
