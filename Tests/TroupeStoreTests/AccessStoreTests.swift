import Foundation
import Testing
import TroupeCore
@testable import TroupePostgres
@testable import TroupeSQLite
@testable import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// What the conformance suite cannot show of API keys and the security log: both outlast the
/// store's opening and a crash of the server, an older PostgreSQL store gains them, `troupe
/// migrate` copies them, and a mirror follows them (a revocation too, which the change feed
/// does not carry).
@Suite("API keys and the security log in the stores")
struct AccessStoreTests {
    typealias A = AccessStoreConformance

    /// Two keys (the second revoked) and three lines of the log, written to `store`.
    static func write(_ store: any MemoryStore) async throws {
        try await store.createKey(A.key("trp_00000000000a"))
        try await store.createKey(A.key("trp_00000000000b", role: "admin", personas: [], at: 1))
        _ = try await store.revokeKey(id: "trp_00000000000b", at: t0.addingTimeInterval(2))
        for (i, kind) in [SecurityEvent.Kind.keyCreated, .authenticationFailed, .keyRevoked].enumerated() {
            try await store.appendSecurityEvent(A.event(kind, key: "trp_00000000000b", at: Double(i)))
        }
    }

    @Test func keysAndTheLogOutliveTheStoresOpening() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("memory.sqlite").path
        let first = LockedBox<SQLiteStore?>(try await TestSQLite.open(path))
        try await Self.write(first.value!)
        let (keys, log) = (try await first.value!.keys(), try await first.value!.securityEvents(SecurityEventQuery()))
        #expect(keys.count == 2 && log.count == 3)
        // Closed (the last reference, dropped off the pool), then opened again.
        _ = try await offThePool("troupe-test.store.close") { _ = first.withLock { $0.take() } }
        let reopened = try await TestSQLite.open(path)
        #expect(try await reopened.keys() == keys)
        #expect(try await reopened.securityEvents(SecurityEventQuery()) == log)
        #expect(try await reopened.appendSecurityEvent(A.event(.denied, at: 9)).seq > log[0].seq)
    }

    @Test func keysAndTheLogSurviveACrashOfTheServer() async throws {
        try await TestPostgres.withScratchServer { server in
            let location = PostgresLocation(url: server.url)
            let store = try await TestPostgres.open(location, connections: 1, reconnectWindow: 120)
            try await Self.write(store)
            let (keys, log) = (try await store.keys(), try await store.securityEvents(SecurityEventQuery()))
            try await offThePool { try server.kill() }
            try await offThePool { try server.start() }
            #expect(try await store.keys() == keys)
            #expect(try await store.securityEvents(SecurityEventQuery()) == log)
            let opened = try await TestPostgres.open(location, connections: 1)
            #expect(try await opened.key(id: "trp_00000000000b")?.revokedAt == t0.addingTimeInterval(2))
            #expect(try await opened.securityEvents(SecurityEventQuery(limit: 1)) == [log[0]])
        }
    }

    @Test func aStoreOfTheSecondPostgresSchemaGainsKeysAndTheLogWhenOpened() async throws {
        let location = try await TestPostgres.freshLocation()
        let old = try await TestPostgres.open(location, connections: 1)
        try await old.put(record("r1", content: "written before keys were kept"))
        #expect(try await old.enqueueFormation(FormationQueueConformance.job("a")))
        // As a store made by a version with the formation queue and without keys.
        try await old.read("make the store pg-v2") { c in
            try c.script("DROP TABLE api_key, security_event; UPDATE store_info SET value = 'pg-v2' WHERE key = 'schema'")
        }
        let opened = try await TestPostgres.open(location, connections: 1)
        #expect(try await opened.info("schema") == "pg-v3")
        #expect(try await opened.get("r1")?.content == "written before keys were kept")
        #expect(try await opened.pendingFormations().map(\.id) == ["a"])
        try await Self.write(opened)
        #expect(try await opened.keys().map(\.id) == ["trp_00000000000a", "trp_00000000000b"])
    }

    /// SQLite to PostgreSQL and back: keys (revoked too) and the log arrive as they were, new
    /// ones come after them, and the verification covers them.
    @Test func migrateCopiesKeysAndTheLog() async throws {
        let directory = try TemporaryDirectory()
        let source = try await TestSQLite.open(directory.file("source.sqlite").path)
        try await source.put(record("r1", content: "a memory beside the keys"))
        try await Self.write(source)

        let postgres = try await TestPostgres.freshStore()
        let there = StoreMigration(from: source, to: postgres)
        let landed = try await there.run { _ in }
        #expect(landed[.keys] == 2 && landed[.security] == 3)
        #expect(try await there.verify().allSatisfy(\.matches))
        #expect(try await postgres.keys() == source.keys())
        let log = try await source.securityEvents(SecurityEventQuery())
        #expect(try await postgres.securityEvents(SecurityEventQuery()) == log)
        #expect(try await postgres.appendSecurityEvent(A.event(.denied, at: 9)).seq > log[0].seq)
        try await postgres.createKey(A.key("trp_00000000000c", at: 9))
        #expect(try await postgres.keys().map(\.id) == ["trp_00000000000a", "trp_00000000000b", "trp_00000000000c"])

        let back = try await TestSQLite.open(directory.file("back.sqlite").path)
        let home = StoreMigration(from: postgres, to: back)
        _ = try await home.run { _ in }
        #expect(try await home.verify().allSatisfy(\.matches))
        #expect(try await back.keys() == postgres.keys())
        #expect(try await back.securityEvents(SecurityEventQuery()) == postgres.securityEvents(SecurityEventQuery()))
    }

    /// A mirror takes keys and the log with it, and a revocation made after a catch-up (no
    /// record changed, so the change feed did not move) at the next one.
    @Test func aMirrorFollowsKeysRevocationsAndTheLog() async throws {
        let directory = try TemporaryDirectory()
        let primary = try await TestSQLite.open(directory.file("primary.sqlite").path)
        try await primary.put(record("r1", content: "a memory beside the keys"))
        try await Self.write(primary)
        let mirror = StoreMirror(primary: primary, mirror: try await TestPostgres.freshStore())
        try await mirror.catchUp()
        #expect(try await mirror.mirror.keys() == primary.keys())
        #expect(try await mirror.mirror.securityEvents(SecurityEventQuery()) == primary.securityEvents(SecurityEventQuery()))

        _ = try await primary.revokeKey(id: "trp_00000000000a", at: t0.addingTimeInterval(5))
        try await primary.createKey(A.key("trp_00000000000c", at: 6))
        try await primary.appendSecurityEvent(A.event(.keyRevoked, key: "trp_00000000000a", at: 5))
        #expect(try await mirror.catchUp() == 0)
        #expect(try await mirror.mirror.key(id: "trp_00000000000a")?.revokedAt == t0.addingTimeInterval(5))
        #expect(try await mirror.mirror.keys() == primary.keys())
        #expect(try await mirror.mirror.securityEvents(SecurityEventQuery()) == primary.securityEvents(SecurityEventQuery()))
        let differences = try await mirror.reconcile(repair: false)
        #expect(differences.contains { $0.table == .keys } && differences.contains { $0.table == .security })
        #expect(differences.allSatisfy { $0.total == 0 }, "\(differences)")
    }
}
