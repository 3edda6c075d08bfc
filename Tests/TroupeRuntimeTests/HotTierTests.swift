import Foundation
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupeRedis
import TroupeRuntime
import TroupeStoreConformance
@testable import TroupeStore
import TroupeStoreDriverSupport

/// A redis-server of the test's own, on a unix socket in a temporary directory; stopped (off the
/// cooperative pool) after the test, whose suite has the `.cleanups` trait.
final class RedisServer: Sendable {
    let directory: TemporaryDirectory
    let server: ManagedRedis
    let client: RedisClient

    /// `started: false` leaves it down (a Redis that is not there yet). The client's timeouts
    /// are short by default; a test that counts outages gives generous ones, so that only a
    /// server that is gone makes one (a crash is seen at once: the connection is reset or
    /// refused), never a loaded machine's slow answer.
    init(started: Bool = true, connectTimeout: Double = 0.2, commandTimeout: Double = 1) async throws {
        let directory = try TemporaryDirectory()
        self.directory = directory
        let server = ManagedRedis(home: directory.url)
        self.server = server
        // The directory goes once the server is stopped.
        Cleanups.add { await server.stopOffThePool(); _ = directory }
        if started { try await server.startOffThePool() }
        client = RedisClient(endpoint: server.endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }
}

/// Warnings as the hot tier gives them.
final class Warnings: Sendable {
    private let messages = LockedBox<[String]>([])

    func add(_ message: String) { messages.withLock { $0.append(message) } }
    var all: [String] { messages.value }
}

extension HotTier {
    /// Ready, and not in the middle of a rebuild.
    var serving: Bool { mode == .ready && !rebuilding }

    /// The live items of a hot set as Redis holds them, by id.
    func held(_ owner: PersonaID, _ slice: SliceKind) async throws -> [String: MemoryRecord] {
        let now = clock.now()
        let ids = try await client.send(["ZRANGEBYSCORE", .init(setKey(owner, slice)), "(\(now.millisecondsSince1970)", "+inf"])
            .array?.compactMap(\.string) ?? []
        var held: [String: MemoryRecord] = [:]
        for id in ids.map(id(ofMember:)) {
            guard let bytes = try await client.send(["GET", .init(itemKey(owner, slice, id))]).bytes,
                let record = HotRecordCodec.decode(bytes)
            else { continue }
            held[id] = record
        }
        return held
    }
}

/// The Redis hot tier against real redis-servers: TTLs (an injected clock for our logic, a
/// short real TTL for Redis's), write-throughs that arrive late, degraded mode, and a run of
/// 10K operations while redis-server is killed twice.
@Suite("Hot tier", .serialized, .cleanups)
struct HotTierTests {
    static func memory(workingTTL: Double, episodicHotTTL: Double = 86_400) -> MemoryPolicy {
        var memory = MemoryPolicy()
        memory.workingTTL = workingTTL
        memory.episodicHotTTL = episodicHotTTL
        return memory
    }

    @Test func workingTTLIsRefreshedOnReadAndExpiredItemsStayInSQLite() async throws {
        let clock = ManualClock()
        let redis = try await RedisServer()
        let team = try await Team(clock: clock, redis: redis.client, memory: Self.memory(workingTTL: 100, episodicHotTTL: 1000))
        let hot = try #require(team.hot)
        let p0 = try await team.persona("p0")
        // Redis counts a TTL down in real time while the test's clock stands still, so a TTL is
        // checked against the real time that passed since before the write that set it: a slow
        // machine widens the bound, and a TTL that was not set afresh falls below it.
        var since = ContinuousClock.now
        let note = try await p0.note("the kettle is on")
        #expect(note.expiresAt == clock.now().addingTimeInterval(100))
        let ttl = try await redis.client.send(["PTTL", .init(hot.itemKey("p0", .working, note.id))]).integer ?? 0
        #expect((100_000 - milliseconds(since: since)...100_000).contains(ttl))

        #expect(try await p0.workingMemory().map(\.id) == [note.id])
        #expect(await hot.counters.hotReads == 1)
        // Less than half the TTL gone: read as is, no write.
        clock.advance(by: 30)
        #expect(try await p0.workingMemory().first?.expiresAt == note.expiresAt)
        // More than half gone: a full TTL again, in SQLite and in Redis.
        clock.advance(by: 30)
        let renewed = clock.now().addingTimeInterval(100)
        // Real time passes first, so a TTL left as the note's write set it would fall below the bound.
        try await Task.sleep(for: .milliseconds(50))
        since = ContinuousClock.now
        #expect(try await p0.workingMemory().first?.expiresAt == renewed)
        #expect(try await team.store.get(note.id)?.expiresAt == renewed)
        #expect(try await hot.held("p0", .working)[note.id]?.expiresAt == renewed)
        let refreshed = try await redis.client.send(["PTTL", .init(hot.itemKey("p0", .working, note.id))]).integer ?? 0
        #expect((100_000 - milliseconds(since: since)...100_000).contains(refreshed))

        // Past its expiry it is no longer working memory, but SQLite keeps it (archived).
        clock.advance(by: 101)
        #expect(try await p0.workingMemory().isEmpty)
        #expect(try await hot.held("p0", .working).isEmpty)
        let archived = try await team.store.get(note.id)
        #expect(archived?.content == "the kettle is on" && archived?.expiresAt == renewed)

        // Episodes are hot for their first 1000 s, then come from SQLite.
        let episode = try await p0.remember("we met at noon", in: .episodic)
        let reads = await hot.counters
        #expect(try await p0.recentEpisodes().map(\.id) == [episode.id])
        #expect(await hot.counters.hotReads == reads.hotReads + 1)
        #expect(try await hot.held("p0", .episodic).keys.sorted() == [episode.id])
        clock.advance(by: 1001)
        #expect(try await hot.held("p0", .episodic).isEmpty)
        #expect(try await p0.recentEpisodes().map(\.id) == [episode.id])
        #expect(await hot.counters.sqliteReads > reads.sqliteReads)
        // A rebuild agrees: nothing is hot any more.
        try await hot.reconcile()
        #expect(try await redis.client.send(["ZCARD", .init(hot.setKey("p0", .working))]).integer == 0)
        #expect(try await redis.client.send(["ZCARD", .init(hot.setKey("p0", .episodic))]).integer == 0)
    }

    /// Redis's own clock does the expiring here, so every bound is taken from instants measured
    /// around the calls: a slow machine makes the waits longer, never the checks wrong.
    @Test func redisExpiresWorkingMemoryWithARealTTL() async throws {
        let ttl = 4.0
        let redis = try await RedisServer()
        let team = try await Team(redis: redis.client, memory: Self.memory(workingTTL: ttl))
        let hot = try #require(team.hot)
        let p1 = try await team.persona("p1")
        let clock = ContinuousClock()
        let written = clock.now
        let note = try await p1.note("buy milk")
        let key = hot.itemKey("p1", .working, note.id)
        #expect(try await redis.client.send(["EXISTS", .init(key)]).integer == 1)

        // Read past half the TTL: the read renews it, in SQLite and in Redis.
        try await Task.sleep(for: .seconds(ttl * 0.55))
        let readStart = clock.now
        guard readStart - written < .seconds(ttl * 0.95) else {
            // The machine stalled for seconds; the note may have expired before the read.
            return
        }
        #expect(try await p1.workingMemory().map(\.id) == [note.id])
        let readEnd = clock.now
        let left = Double(try await redis.client.send(["PTTL", .init(key)]).integer ?? 0) / 1000
        let asked = clock.now
        let unrenewed = ttl - seconds(asked - written)
        let renewedAtLeast = ttl - seconds(asked - readStart)
        #expect(left > unrenewed + 0.5, "PTTL \(left) s: the read did not renew it")
        #expect(left >= renewedAtLeast - 0.05 && left <= ttl)

        // Unread for a whole TTL after the renewal: Redis dropped it by itself.
        try await Task.sleep(until: readEnd + .seconds(ttl + 0.3), clock: clock)
        #expect(try await redis.client.send(["EXISTS", .init(key)]).integer == 0)
        #expect(try await p1.workingMemory().isEmpty)
        #expect(try await team.store.get(note.id)?.content == "buy milk")
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Whole milliseconds since `start`, rounded up, plus one for Redis's own rounding.
    private func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        Int64((seconds(ContinuousClock.now - start) * 1000).rounded(.up)) + 1
    }

    @Test func redisAndSQLiteServeTheSameWorkingMemory() async throws {
        let clock = ManualClock()
        let redis = try await RedisServer()
        var memory = Self.memory(workingTTL: 100)
        memory.workingCapacity = 3
        let team = try await Team(clock: clock, redis: redis.client, memory: memory)
        let hot = try #require(team.hot)
        let p4 = try await team.persona("p4")
        var notes: [String] = []
        for i in 0..<5 {
            notes.append(try await p4.note("step \(i)").id)
            clock.advance(by: 1)
        }
        // The capacity of items used last, newest first.
        #expect(try await p4.workingMemory().map(\.id) == [notes[4], notes[3], notes[2]])
        #expect(await hot.counters.hotReads == 1)
        // Reading refreshes what it returns, so the same three stay in front.
        clock.advance(by: 60)
        #expect(try await p4.workingMemory().map(\.id) == [notes[4], notes[3], notes[2]])
        // A new note pushes the oldest of them out; SQLite alone answers the same.
        notes.append(try await p4.note("step 5").id)
        let fromRedis = try await p4.workingMemory().map(\.id)
        #expect(fromRedis == [notes[5], notes[4], notes[3]])
        await redis.server.crashOffThePool()
        #expect(try await p4.workingMemory().map(\.id) == fromRedis)
        #expect(await hot.counters.sqliteReads >= 1)
    }

    @Test func lateWriteThroughsNeitherRollBackNorResurrect() async throws {
        let redis = try await RedisServer()
        let team = try await Team(redis: redis.client)
        let hot = try #require(team.hot)
        let p2 = try await team.persona("p2")
        let first = try await p2.note("draft one")
        let second = try await p2.update(first.id, basedOn: 1, change: MemoryChange(content: "draft two")).current
        // The first version's write-through arrives after the second's.
        await hot.didWrite([first])
        #expect(try await hot.held("p2", .working)[first.id]?.content == "draft two")
        _ = try await p2.forget(first.id)
        // A write-through still on its way cannot bring a forgotten item back.
        await hot.didWrite([second])
        #expect(try await hot.held("p2", .working).isEmpty)
        #expect(try await p2.workingMemory().isEmpty)
        #expect(try await redis.client.send(["GET", .init(hot.itemKey("p2", .working, first.id))]).string == HotTier.forgotten)
    }

    @Test func degradedModeWarnsOncePerOutageAndRebuildsWhenRedisIsBack() async throws {
        let redis = try await RedisServer(started: false)
        let warnings = Warnings()
        let team = try await Team(redis: redis.client, warn: { warnings.add($0) })
        let hot = try #require(team.hot)
        let p3 = try await team.persona("p3")
        var notes: [String] = []
        for i in 0..<20 {
            notes.append(try await p3.note("note \(i) while redis is down").id)
            _ = try await p3.share("fact \(i) while redis is down", in: "lww")
            #expect(try await p3.workingMemory().count == notes.count)
            #expect(try await p3.recall("fact \(i)", slices: [.semantic]).first?.record.content == "fact \(i) while redis is down")
        }
        #expect(await hot.mode == .degraded)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("unreachable") == true)

        try await redis.server.startOffThePool()
        #expect(await eventually { await hot.serving })
        #expect(warnings.all.count == 2 && warnings.all.last?.contains("back") == true)
        // Rebuilt from SQLite: every live note is hot, and reads come from Redis.
        #expect(try await hot.held("p3", .working).keys.sorted() == notes.sorted())
        let reads = await hot.counters.hotReads
        #expect(try await p3.workingMemory().count == notes.count)
        #expect(await hot.counters.hotReads == reads + 1)

        // A second outage: one more warning, however many operations meet it.
        await redis.server.crashOffThePool()
        for i in 0..<10 { _ = try await p3.note("note \(i) in the second outage") }
        #expect(try await p3.workingMemory().count == notes.count + 10)
        #expect(warnings.all.count == 3)
    }

    @Test func aManagedServerThatDiedIsStartedAgain() async throws {
        let redis = try await RedisServer()
        let warnings = Warnings()
        let team = try await Team(redis: redis.client, warn: { warnings.add($0) }, restart: { [server = redis.server] in try server.start() })
        let hot = try #require(team.hot)
        let p5 = try await team.persona("p5")
        let note = try await p5.note("before the crash")
        await redis.server.crashOffThePool()
        let during = try await p5.note("during the outage")
        #expect(await hot.mode == .degraded)
        #expect(await eventually { await hot.serving })
        guard case .running = redis.server.status() else { throw TroupeError(.unavailable, "the server was not started again") }
        #expect(try await hot.held("p5", .working).keys.sorted() == [note.id, during.id].sorted())
        #expect(warnings.all.count == 2)
    }

    @Test func theRecallCacheServesRepeatsUntilItsSlicesChange() async throws {
        let redis = try await RedisServer()
        let team = try await Team(redis: redis.client)
        let hot = try #require(team.hot)
        let p6 = try await team.persona("p6"), p7 = try await team.persona("p7")
        _ = try await p6.remember("the harbour opens at dawn", in: .semantic)
        func recall() async throws -> (ids: [String], hit: Bool) {
            let before = await hot.counters.cacheHits
            let ids = try await p6.recall("harbour dawn", slices: [.semantic]).map(\.record.id)
            return (ids, await hot.counters.cacheHits > before)
        }
        let first = try await recall()
        #expect(!first.hit && first.ids.count == 1)
        let again = try await recall()
        #expect(again.hit && again.ids == first.ids)
        // A write elsewhere (another persona's private slice, another slice kind) changes nothing.
        _ = try await p7.remember("the harbour closes at dusk", in: .semantic)
        _ = try await p6.remember("the harbour was busy today", in: .episodic)
        #expect(try await recall().hit)
        // A write to a searched slice (here the shared slice p6 belongs to) is seen at once.
        let shared = try await p7.share("the harbour dawn bell rings twice", in: "lww").current
        let afterShare = try await recall()
        #expect(!afterShare.hit && afterShare.ids.contains(shared.id))
        #expect(try await recall().hit)
        // So is a forget: the cached answer named a record that is gone.
        _ = try await p6.forget(shared.id)
        let afterForget = try await recall()
        #expect(!afterForget.hit && !afterForget.ids.contains(shared.id))
        // Another process (here: a write straight to the store) invalidates it too.
        #expect(try await recall().hit)
        try await team.store.put(MemoryRecord(id: "outside", owner: "p6", slice: .semantic, content: "dawn at the harbour, from outside", source: "other", createdAt: Date()))
        let afterOutside = try await recall()
        #expect(!afterOutside.hit && afterOutside.ids.contains("outside"))
    }

    @Test func twoHomesOnOneRedisNeverSeeEachOther() async throws {
        let redis = try await RedisServer()
        let first = try await Team(redis: redis.client), second = try await Team(redis: redis.client)
        let a = try await first.persona("p0").note("first home's note")
        let b = try await second.persona("p0").note("second home's note")
        #expect(try await first.hot!.held("p0", .working).keys.sorted() == [a.id])
        #expect(try await second.hot!.held("p0", .working).keys.sorted() == [b.id])
        #expect(try await first.persona("p0").workingMemory().map(\.content) == ["first home's note"])
        // A rebuild of one home leaves the other's keys alone.
        try await first.hot!.reconcile()
        #expect(try await second.hot!.held("p0", .working).keys.sorted() == [b.id])
        #expect(first.hot!.namespace != second.hot!.namespace)
    }

    @Test func aLongLivedOwnerSeesOtherProcessesWritesThroughRun() async throws {
        let redis = try await RedisServer()
        let team = try await Team(redis: redis.client)
        let hot = try #require(team.hot)
        let mine = try await team.persona("p1").note("written here")
        // Another process wrote this one and died before writing it through.
        let now = Date().truncatedToMilliseconds
        let theirs = MemoryRecord(
            id: "elsewhere", owner: "p1", slice: .working, content: "written elsewhere", source: "p1", createdAt: now, expiresAt: now.addingTimeInterval(3600))
        try await team.store.put(theirs)
        #expect(try await hot.held("p1", .working).keys.sorted() == [mine.id])
        let background = Task { await hot.run(every: .milliseconds(20), catchUpEvery: 0.1) }
        defer { background.cancel() }
        #expect(try await eventually { try await hot.held("p1", .working).count == 2 })
    }

    @Test func aNewProcessCatchesUpFromTheChangeLogInsteadOfRebuilding() async throws {
        let redis = try await RedisServer()
        let team = try await Team(redis: redis.client)
        let first = try #require(team.hot)
        let p2 = try await team.persona("p2")
        let kept = try await p2.note("kept"), forgotten = try await p2.note("forgotten by a process that then died")
        _ = try await p2.remember("an episode", in: .episodic)
        #expect(await first.counters.rebuilds == 1)
        // A process that died between its SQLite commits and its write-throughs.
        let now = Date().truncatedToMilliseconds
        try await team.store.put(MemoryRecord(
            id: "orphan", owner: "p2", slice: .working, content: "never written through", source: "p2", createdAt: now,
            expiresAt: now.addingTimeInterval(3600)))
        _ = try await team.store.forget(forgotten.id, reason: nil, at: now)
        #expect(try await first.held("p2", .working).keys.sorted() == [kept.id, forgotten.id].sorted())

        // The next process on this home applies what the log holds since Redis's cursor.
        let next = HotTier(client: RedisClient(endpoint: redis.server.endpoint), home: team.directory.url, store: team.store, clock: SystemClock())
        #expect(await next.ready())
        let nextCounts = await next.counters
        #expect(nextCounts.catchUps == 1 && nextCounts.rebuilds == 0)
        #expect(try await next.held("p2", .working).keys.sorted() == [kept.id, "orphan"].sorted())
        #expect(try await redis.client.send(["ZCARD", .init(next.setKey("p2", .working))]).integer == 2)
        #expect(try await next.held("p2", .episodic).count == 1)

        // A restarted server is empty and has no cursor: the next process rebuilds in full.
        await redis.server.crashOffThePool()
        try await redis.server.startOffThePool()
        let third = HotTier(client: RedisClient(endpoint: redis.server.endpoint), home: team.directory.url, store: team.store, clock: SystemClock())
        #expect(await third.ready())
        let thirdCounts = await third.counters
        #expect(thirdCounts.rebuilds == 1 && thirdCounts.catchUps == 0)
        #expect(try await third.held("p2", .working).keys.sorted() == [kept.id, "orphan"].sorted())
    }

    /// The fault test: 10K writes and recalls by eight personas while redis-server is
    /// killed (SIGKILL) and restarted twice.
    @Test func tenThousandOperationsThroughTwoRedisCrashesLoseNothing() async throws {
        let redis = try await RedisServer(connectTimeout: 10, commandTimeout: 30)
        let warnings = Warnings()
        let team = try await Team(redis: redis.client, warn: { warnings.add($0) })
        let hot = try #require(team.hot)
        let progress = Progress()
        let operations = 10_000, perPersona = operations / Team.names.count

        let killer = Task {
            for threshold in [operations / 4, operations * 3 / 5] {
                while await progress.done < threshold { try await Task.sleep(for: .milliseconds(2)) }
                await redis.server.crashOffThePool()
                try await Task.sleep(for: .milliseconds(300))
                try await redis.server.startOffThePool()
            }
        }
        let acknowledged = try await withThrowingTaskGroup(of: Acknowledged.self) { group in
            for name in Team.names {
                let persona = try await team.persona(name)
                group.addTask { try await Self.work(persona, operations: perPersona, progress: progress) }
            }
            var all = Acknowledged()
            for try await part in group { all.merge(part) }
            return all
        }
        try await killer.value
        #expect(warnings.all.filter { $0.contains("unreachable") }.count == 2, "\(warnings.all)")
        #expect(!warnings.all.contains { $0.contains("refused") }, "\(warnings.all)")
        #expect(await hot.counters.rebuilds >= 3)

        // Every acknowledged record is in SQLite, once; forgotten ones are gone.
        let everything = try await team.store.query(MemoryQuery())
        let written = everything.filter { $0.slice != .procedural }
        #expect(written.count == acknowledged.live.count)
        #expect(Dictionary(grouping: written, by: \.content).values.allSatisfy { $0.count == 1 })
        let byID = Dictionary(uniqueKeysWithValues: written.map { ($0.id, $0) })
        for (id, content) in acknowledged.live { #expect(byID[id]?.content == content, "\(id)") }
        for id in acknowledged.forgotten { #expect(try await team.store.get(id) == nil) }

        // And recallable: each by its own words, through the persona that wrote it.
        for name in Team.names {
            let persona = try await team.persona(name)
            let mine = acknowledged.live.filter { acknowledged.writer[$0.key] == name }.sorted { $0.key < $1.key }
            for chunk in stride(from: 0, to: mine.count, by: 256) {
                let part = Array(mine[chunk..<min(chunk + 256, mine.count)])
                let answers = try await persona.recall(queries: part.map(\.value), limit: 5)
                for ((id, _), hits) in zip(part, answers) { #expect(hits.contains { $0.record.id == id }, "\(id) not recalled") }
            }
        }

        // The hot tier is SQLite's live working memory, item for item, without a final rebuild.
        #expect(await eventually { await hot.serving })
        let live = try await team.store.query(MemoryQuery(slices: [.working], expiringAfter: team.coordinator.clock.now()))
        for name in Team.names {
            let held = try await hot.held(name, .working)
            let truth = live.filter { $0.owner == name }
            let missing = Set(truth.map(\.id)).subtracting(held.keys), extra = Set(held.keys).subtracting(truth.map(\.id))
            #expect(missing.isEmpty && extra.isEmpty, "\(name): \(missing.count) live items not hot, \(extra.count) hot items not live")
            for record in truth {
                let copy = held[record.id]
                if let copy {
                    #expect(copy.version == record.version && copy.content == record.content && copy.expiresAt == record.expiresAt, "\(record.id)")
                }
            }
        }
    }

    /// One persona's share of the fault test: notes, episodes, facts, shared facts, updates
    /// and forgets of its notes, recalls (repeated ones hit the cache) and working reads.
    static func work(_ persona: PersonaActor, operations: Int, progress: Progress) async throws -> Acknowledged {
        var acknowledged = Acknowledged()
        var notes: [MemoryRecord] = []
        let name = persona.name
        for i in 0..<operations {
            let words = "\(name) item \(i) \(Self.word(i)) \(Self.word(i * 7 + 3))"
            switch i % 10 {
            case 0, 1, 2:
                let note = try await persona.note("note " + words)
                notes.append(note)
                acknowledged.add(note, by: name)
            case 3: acknowledged.add(try await persona.remember("episode " + words, in: .episodic), by: name)
            case 4: acknowledged.add(try await persona.remember("fact " + words, in: .semantic), by: name)
            case 5: acknowledged.add(try await persona.share("shared " + words, in: "lww").current, by: name)
            case 6:
                guard let last = notes.popLast() else { continue }
                if i % 20 == 6 {
                    _ = try await persona.forget(last.id)
                    acknowledged.forget(last.id)
                } else {
                    let next = try await persona.update(last.id, basedOn: last.version, change: MemoryChange(content: "revised " + words)).current
                    notes.append(next)
                    acknowledged.add(next, by: name)
                }
            case 7, 8: _ = try await persona.recall("fact \(Self.word(i % 40))", slices: [.semantic])
            default: _ = try await persona.workingMemory()
            }
            await progress.step()
        }
        return acknowledged
    }

    static let vocabulary = ["amber", "basil", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper", "kelp", "lumen"]
    static func word(_ i: Int) -> String { vocabulary[i % vocabulary.count] + String(i % 97) }
}

/// Operations done so far in the fault test.
actor Progress {
    private(set) var done = 0
    func step() { done += 1 }
}

/// What the fault test's writers were told was written: live ids with their content, and
/// the forgotten ones.
struct Acknowledged: Sendable {
    var live: [String: String] = [:]
    var writer: [String: PersonaID] = [:]
    var forgotten: Set<String> = []

    mutating func add(_ record: MemoryRecord, by persona: PersonaID) {
        live[record.id] = record.content
        writer[record.id] = persona
    }

    mutating func forget(_ id: String) {
        live[id] = nil
        forgotten.insert(id)
    }

    mutating func merge(_ other: Acknowledged) {
        live.merge(other.live) { a, _ in a }
        writer.merge(other.writer) { a, _ in a }
        forgotten.formUnion(other.forgotten)
    }
}
