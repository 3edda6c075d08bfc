import Foundation
import Testing
import TroupeCore
import TroupeRedis
import TroupeSQLite
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport
import TroupeVault

/// The Redis hot tier of an encrypted store holds nothing readable of a memory: not in a value
/// (`DUMP`), not in the server's snapshot (its RDB file), and still serves hot reads.
@Suite("Vault on the hot tier")
struct VaultRedisTests {
    @Test func anEncryptedStoresHotCopiesAreSealedInRedisAndItsSnapshot() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let store = try await TestSQLite.open(directory.file("memory.sqlite").path, sealer: vault)
        let server = ManagedRedis(home: directory.url)
        try await server.stoppingAfterwards {
            let client = RedisClient(endpoint: try await server.startOffThePool())
            let tier = HotTier(client: client, home: directory.url, store: store, clock: SystemClock())
            let now = Date()
            var working = record("w1", "athena", .working, content: "The vault phrase is GECKOLANTERN", tags: ["HERONTAG"])
            working.createdAt = now
            working.expiresAt = now.addingTimeInterval(3600)
            var episode = record("e1", "athena", .episodic, content: "We met about MARMOTSUMMIT")
            episode.createdAt = now
            for r in [working, episode] { try await store.put(r, vector: nil) }
            await tier.didWrite([working, episode])

            // Served hot, and as written.
            let read = try await tier.working("athena", limit: 10)
            let hotReads = await tier.counters.hotReads
            #expect(read.map(\.content) == [working.content] && hotReads == 1)

            let phrases = ["GECKOLANTERN", "HERONTAG", "MARMOTSUMMIT"]
            let keys = try await client.send(["KEYS", "*item*"]).array?.compactMap(\.string) ?? []
            #expect(keys.count == 2)
            for key in keys {
                let dumped = Data(try await client.send(["DUMP", .init(key)]).bytes ?? [])
                #expect(!dumped.isEmpty && phrases.allSatisfy { dumped.range(of: Data($0.utf8)) == nil }, "\(key)")
            }
            _ = try await client.send(["SAVE"])
            let dir = try await client.send(["CONFIG", "GET", "dir"]).array?.last?.string ?? ""
            let file = try await client.send(["CONFIG", "GET", "dbfilename"]).array?.last?.string ?? ""
            let rdb = try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent(file))
            #expect(!rdb.isEmpty && phrases.allSatisfy { rdb.range(of: Data($0.utf8)) == nil })
        }
    }
}
