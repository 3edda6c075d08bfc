import Foundation
import Testing
import TroupeCore
@testable import TroupeSQLite
@testable import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// What the CLI tests of `storage.mirror` cannot arrange: catch-ups of one mirror from several
/// processes at once, and a holder that dies with the mirror's lease.
@Suite("Store mirror")
struct StoreMirrorTests {
    /// A primary and a mirror, SQLite files.
    static func stores(_ directory: TemporaryDirectory) async throws -> (SQLiteStore, SQLiteStore) {
        (try await TestSQLite.open(directory.file("primary.sqlite").path), try await TestSQLite.open(directory.file("mirror.sqlite").path))
    }

    @Test func aCatchUpWaitsWhileAnotherHolderHasTheLease() async throws {
        let directory = try TemporaryDirectory()
        let (primary, mirror) = try await Self.stores(directory)
        try await primary.put(record("a", content: "written before the catch-up"))
        let other = MirrorLease(key: "mirror_lease " + primary.migrationName, store: mirror)
        try await other.claim()

        let follower = StoreMirror(primary: primary, mirror: try await TestSQLite.open(directory.file("mirror.sqlite").path))
        let catchingUp = Task { try await follower.catchUp() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await mirror.get("a") == nil, "the catch-up wrote while another held the lease")
        try await other.release()
        _ = try await catchingUp.value
        #expect(try await mirror.get("a")?.content == "written before the catch-up")
    }

    @Test func aLeaseWhoseHolderDiedLapsesAndIsTakenOver() async throws {
        let directory = try TemporaryDirectory()
        let (primary, mirror) = try await Self.stores(directory)
        try await primary.put(record("a", content: "written while the lease was stale"))
        let dead = "\(UUID().uuidString) \(Int64((Date().timeIntervalSince1970 + 0.5) * 1000))"
        #expect(try await mirror.swapInfo("mirror_lease " + primary.migrationName, expecting: nil, to: dead))
        let started = Date()
        try await StoreMirror(primary: primary, mirror: mirror).catchUp()
        #expect(Date().timeIntervalSince(started) >= 0.3, "the live lease was not waited for")
        #expect(try await mirror.get("a") != nil)
    }

    /// Writers change a few records over and over while three followers (three processes'
    /// views of one mirror) catch it up at once: at the end the mirror equals the primary. (A
    /// stress check: the interleaving the lease rules out is narrow and seldom hit here; the two
    /// tests above are the ones that fail without the lease.)
    @Test func followersCatchingUpAtOnceLeaveTheMirrorEqual() async throws {
        let directory = try TemporaryDirectory()
        let (primary, _) = try await Self.stores(directory)
        let ids = (0..<5).map { "r\($0)" }
        for id in ids { try await primary.put(record(id, content: "\(id) version 1")) }
        var opened: [StoreMirror] = []
        for _ in 0..<3 { opened.append(StoreMirror(primary: primary, mirror: try await TestSQLite.open(directory.file("mirror.sqlite").path))) }
        let followers = opened
        let done = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for follower in followers {
                group.addTask {
                    while !done.isSet { try await follower.catchUp() }
                }
            }
            group.addTask {
                defer { done.set() }
                for round in 2...60 {
                    for id in ids {
                        let current = try #require(try await primary.get(id))
                        _ = try await primary.update(
                            id, expectedVersion: current.version, change: MemoryChange(content: "\(id) version \(round)"), writer: "test",
                            at: Date(), vector: nil)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await followers[0].catchUp()
        let differences = try await followers[1].reconcile(repair: false)
        #expect(differences.allSatisfy { $0.total == 0 }, "\(differences.filter { $0.total > 0 })")
    }
}
