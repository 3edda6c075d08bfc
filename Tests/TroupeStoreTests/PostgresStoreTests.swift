import Foundation
import Testing
import TroupeCore
@testable import TroupePostgres
@testable import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// What the conformance suites cannot show of the PostgreSQL store: the change feed's order under
/// writers committing at once, notifications, and a server that is down, restarts or crashes.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test func aServerThatDoesNotAnswerIsNamedWithoutItsPassword() async throws {
        let port = try FreePort.find()
        let location = PostgresLocation(url: "postgres://troupe:s3cret@127.0.0.1:\(port)/postgres", password: "env-secret")
        let error = await #expect(throws: TroupeError.self) { try await TestPostgres.open(location) }
        #expect(error?.message.contains("cannot reach the store at postgres://troupe@127.0.0.1:\(port)/postgres") == true, "\(String(describing: error))")
        #expect(error.map { !"\($0)".contains("s3cret") && !"\($0)".contains("env-secret") } == true)
    }

    /// Two stores (two pools, as two processes have) write at once while a third follows the
    /// feed: the follower must see every record, although numbers are handed out while
    /// transactions are still open and they commit in any order.
    @Test func aFollowerOfTheFeedMissesNoCommitOfConcurrentWriters() async throws {
        let location = try await TestPostgres.freshLocation()
        let writers = [try await TestPostgres.open(location, connections: 4), try await TestPostgres.open(location, connections: 4)]
        let follower = try await TestPostgres.open(location, connections: 1)
        let done = Flag()
        async let followed: Set<String> = {
            var seen: Set<String> = []
            var cursor: Int64 = 0
            var finished = false
            while !finished {
                finished = done.isSet
                let feed = try await follower.changes(since: cursor, limit: 50)
                #expect(!feed.mustReload && feed.cursor >= cursor)
                seen.formUnion(feed.changed)
                if feed.cursor == cursor { try await Task.sleep(for: .milliseconds(2)) } else { finished = false }
                cursor = feed.cursor
            }
            return seen
        }()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask {
                    for i in 0..<60 { try await writers[w % 2].put(record("w\(w)-\(i)", content: "writer \(w) item \(i)")) }
                }
            }
            try await group.waitForAll()
        }
        done.set()
        let seen = try await followed
        #expect(seen.count == 480)
        #expect(seen == Set((0..<8).flatMap { w in (0..<60).map { "w\(w)-\($0)" } }))
    }

    /// The race a sequence would lose, made certain: after a first commit, one writer numbers its
    /// change and holds its transaction open; another writes meanwhile; a follower reads the feed
    /// in that window and again after. The held commit must not be skipped: the second writer
    /// waits for the first's number to commit, so the follower never sees a later number first.
    @Test func aCommitHeldOpenAfterItsNumberIsNotSkippedByTheFeed() async throws {
        let location = try await TestPostgres.freshLocation()
        let (slow, fast, follower) = (
            try await TestPostgres.open(location, connections: 1), try await TestPostgres.open(location, connections: 1),
            try await TestPostgres.open(location, connections: 1)
        )
        try await fast.put(record("first", content: "committed before the race"))
        let numbered = Flag()
        slow.beforeCommit.set {
            numbered.set()
            usleep(800_000)
        }
        async let late: Void = slow.put(record("late", content: "numbered second, committed last"))
        let deadline = Date().addingTimeInterval(300)
        while !numbered.isSet, Date() < deadline { try await Task.sleep(for: .milliseconds(2)) }
        // Another slice, so that only the change numbering can order the two.
        async let early: Void = fast.put(record("early", "artemis", .episodic, content: "written while the second is open"))
        try await Task.sleep(for: .milliseconds(300))
        let during = try await follower.changes(since: 0, limit: 50)
        try await late
        try await early
        let after = try await follower.changes(since: during.cursor, limit: 50)
        #expect(!during.mustReload && !after.mustReload)
        #expect(Set(during.changed + after.changed) == ["first", "late", "early"], "in the window: \(during.changed), after: \(after.changed)")
    }

    @Test func anotherStoresCommitIsAnnounced() async throws {
        let location = try await TestPostgres.freshLocation()
        let (writer, reader) = (try await TestPostgres.open(location), try await TestPostgres.open(location))
        let listener = PostgresChangeListener(store: reader)
        defer { listener.stop() }
        try #require(await eventually { listener.isListening }, "the listener never got its LISTEN in place")
        let start = try await reader.changeCursor()
        try await writer.put(record("announced", content: "a write the other store hears of"))
        var latest = start
        let deadline = Date().addingTimeInterval(300)
        while latest <= start, Date() < deadline { latest = await listener.next(after: latest) }
        #expect(latest > start)
        #expect(try await reader.changes(since: start, limit: 10).changed == ["announced"])
    }

    /// A writer keeps writing while its server is stopped and started again, then crashes
    /// (SIGKILL) and starts again: every write it was told had landed is there, and it goes on
    /// writing afterwards without being reopened.
    @Test func aRestartAndACrashOfTheServerLoseNothingAcknowledged() async throws {
        try await TestPostgres.withScratchServer { server in
            let store = try await TestPostgres.open(PostgresLocation(url: server.url), connections: 2, reconnectWindow: 120)
            let stop = Flag()
            let log = AckLog()
            let writer = Task {
                var i = 0
                while !stop.isSet {
                    do {
                        try await store.put(record("r\(i)", content: "write \(i)"))
                        log.acknowledged("r\(i)")
                    } catch let error as TroupeError {
                        #expect(error.code == .storage && error.message.contains("postgres://"), "\(error)")
                        log.failed("r\(i)")
                    }
                    i += 1
                }
            }
            // Each step waits for acknowledged writes (hang guards of 300 s, not timings).
            try await log.waitFor(5)
            try await offThePool { try server.stopServer() }
            try await offThePool { try server.start() }
            try await log.waitFor(log.count + 5)
            try await offThePool { try server.kill() }
            try await offThePool { try server.start() }
            let afterCrash = log.count
            try await log.waitFor(afterCrash + 5)
            stop.set()
            try await writer.value
            let (ok, failed) = log.snapshot
            let stored = Set(try await store.query(MemoryQuery(owners: ["athena"])).map(\.id))
            #expect(Set(ok).isSubset(of: stored), "acknowledged but missing: \(Set(ok).subtracting(stored).sorted().prefix(5))")
            // A write whose COMMIT was cut off may have landed; any other failed one did not.
            #expect(stored.subtracting(ok).count <= failed.count)
            // Writes after the crash landed too: the store reconnected by itself.
            #expect(ok.count >= afterCrash + 5)
        }
    }
}

/// Writes a task was told had landed, or not.
final class AckLog: Sendable {
    private struct State {
        var ok: [String] = []
        var notOK: [String] = []
    }

    private let state = LockedBox(State())
    func acknowledged(_ id: String) { state.withLock { $0.ok.append(id) } }
    func failed(_ id: String) { state.withLock { $0.notOK.append(id) } }
    var count: Int { state.withLock { $0.ok.count } }
    var snapshot: (ok: [String], failed: [String]) { state.withLock { ($0.ok, $0.notOK) } }

    /// Waits until `n` writes were acknowledged (a hang guard of 300 s).
    func waitFor(_ n: Int) async throws {
        let deadline = Date().addingTimeInterval(300)
        while count < n {
            guard Date() < deadline else { throw TroupeError(.unavailable, "only \(count) of \(n) writes acknowledged in 300 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A flag set once, read from any task.
final class Flag: Sendable {
    private let value = LockedBox(false)
    var isSet: Bool { value.value }
    func set() { value.withLock { $0 = true } }
}
