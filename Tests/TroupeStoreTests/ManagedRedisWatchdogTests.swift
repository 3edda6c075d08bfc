import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// A managed redis-server stops by itself once its home is gone or it has had no client for a
/// while, and keeps running while a client is connected.
@Suite("Managed redis-server watchdog")
struct ManagedRedisWatchdogTests {
    func pid(_ managed: ManagedRedis) -> Int32? {
        if case .running(let pid) = managed.status() { return pid }
        return nil
    }

    @Test func stopsWhenItsHomeIsDeleted() async throws {
        let home = try TemporaryDirectory()
        let managed = ManagedRedis(home: home.url, idleStop: 0, watchInterval: 0.2)
        try managed.start()
        let server = try #require(pid(managed))
        try FileManager.default.removeItem(at: home.url)
        #expect(await eventually { kill(server, 0) != 0 }, "redis-server \(server) outlived its home")
    }

    @Test func stopsAfterAnIdlePeriodButNotWhileAClientIsConnected() async throws {
        let home = try TemporaryDirectory()
        let managed = ManagedRedis(home: home.url, idleStop: 1, watchInterval: 0.2)
        defer { managed.stop() }
        try managed.start()
        let server = try #require(pid(managed))
        let client = RedisClient(endpoint: managed.endpoint)
        try await client.send(["PING"])
        // Several idle periods with a client connected: it stays.
        #expect(await eventually { (managed.watchdog()?.clients ?? 0) > 0 })
        try await Task.sleep(for: .seconds(3))
        #expect(kill(server, 0) == 0, "stopped although a client was connected")
        #expect(managed.watchdog()?.stopsAt == nil)
        await client.close()
        #expect(await eventually { kill(server, 0) != 0 }, "redis-server \(server) kept running without clients")
        #expect(managed.status() != .running(pid: server))
    }
}
