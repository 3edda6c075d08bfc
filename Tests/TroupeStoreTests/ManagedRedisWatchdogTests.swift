import Foundation
import Testing
import TroupeCore
import TroupeRedis
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// A managed redis-server stops by itself once its home is gone or it has had no client for a
/// while, and keeps running while a client is connected.
@Suite("Managed redis-server watchdog")
struct ManagedRedisWatchdogTests {
    func pid(_ managed: ManagedRedis) -> Int32? {
        if case .running(let pid) = managed.status() { return pid }
        return nil
    }

    /// A connection to the unix socket at `path` (a client as far as Redis counts); -1 if none.
    static func connect(to path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    @Test func stopsWhenItsHomeIsDeleted() async throws {
        let home = try TemporaryDirectory()
        let managed = ManagedRedis(home: home.url, idleStop: 0, watchInterval: 0.2)
        try await managed.startOffThePool()
        let server = try #require(pid(managed))
        // Off the pool; the watchdog writes its state into the home every 0.2 s, and a removal
        // that meets such a write fails (the directory is no longer empty): it is tried again.
        try await offThePool("troupe-test.remove-home") {
            var attempts = 0
            while true {
                do {
                    try FileManager.default.removeItem(at: home.url)
                    return
                } catch where attempts < 50 {
                    attempts += 1
                    usleep(20_000)
                }
            }
        }
        #expect(await eventually { kill(server, 0) != 0 }, "redis-server \(server) outlived its home")
    }

    @Test func stopsAfterAnIdlePeriodButNotWhileAClientIsConnected() async throws {
        let home = try TemporaryDirectory()
        let managed = ManagedRedis(home: home.url, idleStop: 1, watchInterval: 0.2)
        try await managed.stoppingAfterwards {
            // The watchdog counts whole seconds: a server that has had no client since its start
            // may be stopped well within `idleStop`. So the thread that starts it connects at once
            // and holds that connection until the test's own client is connected.
            let started = try await offThePool("troupe-test.redis.start") { () -> (pid: Int32?, keeper: Int32) in
                try managed.start()
                return (pid(managed), Self.connect(to: managed.socketPath))
            }
            var keeper = started.keeper
            defer { if keeper >= 0 { close(keeper) } }
            let server = try #require(started.pid)
            let client = RedisClient(endpoint: managed.endpoint)
            try await client.send(["PING"])
            close(keeper)
            keeper = -1
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
}
