import Foundation
import Testing
import TroupeCore
import TroupePostgres
import TroupeRedis
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// The hiredis adapter against real redis-servers this suite starts and stops: the managed one on
/// a unix socket in a temporary home, and one on a free loopback port.
@Suite("Redis adapter", .serialized)
struct RedisAdapterTests {
    @Test func urlsParseAndNeverShowThePassword() throws {
        let tcp = try RedisEndpoint(url: "redis://:s3cret@10.0.0.5:6380/2")
        #expect(tcp.address == .tcp(host: "10.0.0.5", port: 6380) && tcp.password == "s3cret" && tcp.database == 2)
        #expect(!tcp.description.contains("s3cret"))
        #expect(try RedisEndpoint(url: "redis://localhost") == RedisEndpoint(.tcp(host: "localhost", port: 6379)))
        #expect(try RedisEndpoint(url: "unix:///run/redis.sock?db=3") == RedisEndpoint(.unix(path: "/run/redis.sock"), database: 3))
        for bad in ["http://x", "redis://:pw@host:99999", "unix://relative.sock", "redis://host/db", "redis://"] {
            let error = #expect(throws: TroupeError.self) { try RedisEndpoint(url: bad) }
            #expect(error?.code == .invalidConfig && error?.message.contains("pw") == false, "\(bad)")
        }
    }

    @Test func commandsPipelinesAndErrorsOnTheManagedServer() async throws {
        let home = try TemporaryDirectory()
        let server = ManagedRedis(home: home.url)
        try await server.stoppingAfterwards {
            let endpoint = try await server.startOffThePool()
            #expect(await server.answersOffThePool())
            guard case .running = server.status() else { throw TroupeError(.unavailable, "not running") }

            let client = RedisClient(endpoint: endpoint)
            #expect(try await client.send(["SET", "greeting", "héllo\u{0}world"]) == .status("OK"))
            #expect(try await client.send(["GET", "greeting"]) == .bulk(Array("héllo\u{0}world".utf8)))
            #expect(try await client.send(["GET", "missing"]) == .null)
            let replies = try await client.pipeline((0..<500).map { ["RPUSH", "list", RedisArgument($0)] } + [["LRANGE", "list", "0", "2"], ["INCR", "greeting"]])
            #expect(replies.count == 502 && replies[499] == .integer(500))
            #expect(replies[500] == .array([.bulk(Array("0".utf8)), .bulk(Array("1".utf8)), .bulk(Array("2".utf8))]))
            guard case .error(let message) = replies[501] else { throw TroupeError(.invalidInput, "expected an error reply") }
            #expect(message.contains("not an integer"))
            // An error reply throws, naming the command and not the value.
            let refused = await #expect(throws: TroupeError.self) { try await client.send(["INCR", "greeting"]) }
            #expect(refused?.message.contains("Redis refused INCR") == true && refused?.message.contains("héllo") == false)

            // A second start reuses the running server.
            let pid = server.status()
            try await server.startOffThePool()
            #expect(server.status() == pid)
        }
    }

    @Test func aDeadServerFailsFastAndTheClientReconnectsWhenItIsBack() async throws {
        let home = try TemporaryDirectory()
        let server = ManagedRedis(home: home.url)
        try await server.stoppingAfterwards {
            let client = RedisClient(endpoint: try await server.startOffThePool(), connectTimeout: 0.2, commandTimeout: 0.5, firstBackoff: 30)
            try await client.send(["SET", "k", "v"])
            await server.crashOffThePool()
            let down = await #expect(throws: TroupeError.self) { try await client.send(["GET", "k"]) }
            #expect(down?.code == .unavailable && down?.message.contains("GET") == true)
            // One attempt to connect fails; during the backoff that follows, commands fail at once,
            // without trying (and waiting for a timeout) again.
            _ = try? await client.send(["GET", "k"])
            let attempts = await client.attempts
            let waiting = await #expect(throws: TroupeError.self) { try await client.send(["GET", "k"]) }
            #expect(waiting?.message.contains("next attempt in") == true)
            #expect(await client.attempts == attempts)

            try await server.startOffThePool()
            #expect(await client.reconnect())
            #expect(try await client.send(["GET", "k"]) == .null)  // a new server, empty: no persistence
            #expect(await client.connections == 2)
        }
    }

    @Test func processesStartingTheServerAtOnceShareOne() async throws {
        let home = try TemporaryDirectory()
        let server = ManagedRedis(home: home.url)
        try await server.stoppingAfterwards {
            // Each start on a thread of its own, as four processes would: one holds the start
            // lock while the others wait for it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await server.startOffThePool() } }
                try await group.waitForAll()
            }
            guard case .running(let pid) = server.status() else { throw TroupeError(.unavailable, "not running") }
            // Exactly one redis-server process for this socket.
            let output = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            #expect(output.contains("redis-server"))
            // (redis-server processes only: the watchdog's redis-cli also names the socket, briefly.)
            let all = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { p in
                let command = (try? String(contentsOfFile: "/proc/\(p)/cmdline", encoding: .utf8)) ?? ""
                guard command.contains("redis-server") else { return false }
                return command.contains(server.socketPath)
                    || (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p)/cwd")) == server.directory.path
            }
            #expect(all == [pid])
        }
    }

    @Test func aServerOnAFreeLoopbackPort() async throws {
        guard let binary = ManagedRedis.binary() else { throw TroupeError(.unavailable, "redis-server is not installed") }
        let port = try FreePort.find()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", "pw"]
        process.standardOutput = FileHandle.nullDevice
        try await offThePool("troupe-test.redis.launch") { try process.run() }
        try await withCleanup {
            let client = RedisClient(endpoint: try RedisEndpoint(url: "redis://:pw@127.0.0.1:\(port)/3"))
            var answered = false
            for _ in 0..<200 where !answered {
                answered = (try? await client.send(["PING"])) == .status("PONG")
                if !answered {
                    await client.reconnect()
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            #expect(answered)
            try await client.send(["SET", "k", "in db 3"])
            #expect(try await client.send(["GET", "k"]).string == "in db 3")
            let other = RedisClient(endpoint: try RedisEndpoint(url: "redis://:pw@127.0.0.1:\(port)/0"))
            #expect(try await other.send(["GET", "k"]) == .null)
            let wrong = RedisClient(endpoint: try RedisEndpoint(url: "redis://:nope@127.0.0.1:\(port)/0"))
            let refused = await #expect(throws: TroupeError.self) { try await wrong.send(["PING"]) }
            #expect(refused?.message.contains("AUTH") == true && refused?.message.contains("nope") == false)
        } cleanup: {
            // SIGKILL: this process may block SIGTERM, and the child inherits that.
            kill(process.processIdentifier, SIGKILL)
            _ = try? await offThePool("troupe-test.redis.wait") { process.waitUntilExit() }
        }
    }
}
