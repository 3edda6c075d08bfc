import Foundation
import TroupeCore

/// The hot, TTL'd part of memory in Redis; SQLite stays the truth (see DESIGN.md).
///
/// - Working memory is written through after its SQLite commit, with its expiry as TTL; a read
///   refreshes it (in SQLite too, once it is past half its life, so the two always agree).
/// - Episodic memories are hot for their first day (per persona), then served from SQLite.
/// - Recalls over semantic and procedural slices are cached under a key that includes each
///   slice's version counter from SQLite: any write, by any process, changes the key.
/// - When Redis cannot be reached every operation works on SQLite alone (degraded mode, one
///   warning per outage); ``run()`` reconnects in the background, and the hot set is then
///   rebuilt from SQLite, as it is when a process first uses the tier.
public actor HotTier {
    /// How long things stay hot, for one owner.
    public struct Policy: Sendable, Hashable {
        public var workingTTL: Double
        public var episodicHotTTL: Double

        public init(workingTTL: Double = 3600, episodicHotTTL: Double = 86_400) {
            self.workingTTL = workingTTL
            self.episodicHotTTL = episodicHotTTL
        }
    }

    public enum Mode: String, Sendable {
        /// Not used yet in this process.
        case unknown
        case ready
        /// Redis unreachable: SQLite alone until it is back.
        case degraded
    }

    public nonisolated let client: RedisClient
    /// `troupe:<home>`: every key of this home starts with it.
    public nonisolated let namespace: String
    let store: any MemoryStore
    let clock: any WallClock
    let policies: [PersonaID: Policy]
    let defaultPolicy: Policy
    let warn: @Sendable (String) -> Void
    public internal(set) var mode = Mode.unknown
    private var readying: Task<Bool, Never>?
    private(set) var degradedSince: Date?
    private var lastReconcile: Date?
    /// What this process did: reads served from Redis or from SQLite, cache use, rebuilds.
    public internal(set) var counters = Counters()

    public struct Counters: Sendable, Hashable {
        public var hotReads = 0, sqliteReads = 0, cacheHits = 0, cacheMisses = 0, rebuilds = 0, failures = 0
    }

    public init(
        client: RedisClient, home: URL, store: any MemoryStore, clock: any WallClock, policies: [PersonaID: Policy] = [:],
        defaultPolicy: Policy = Policy(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.client = client
        namespace = "troupe:" + SHA256.hex(of: Array(home.standardizedFileURL.path.utf8)).prefix(12)
        self.store = store
        self.clock = clock
        self.policies = policies
        self.defaultPolicy = defaultPolicy
        self.warn = warn
    }

    func policy(_ owner: PersonaID) -> Policy { policies[owner] ?? defaultPolicy }

    // MARK: Keys

    func itemKey(_ owner: PersonaID, _ slice: SliceKind, _ id: String) -> String { "\(namespace):\(owner):\(slice.rawValue):item:\(id)" }
    func setKey(_ owner: PersonaID, _ slice: SliceKind) -> String { "\(namespace):\(owner):\(slice.rawValue):hot" }
    var statsKey: String { "\(namespace):stats" }

    /// Until when `record` is hot (its score in the hot set), or `nil` if it is not.
    func hotUntil(_ record: MemoryRecord, now: Date) -> Date? {
        switch record.slice {
        case .working: return record.expiresAt.flatMap { $0 > now ? $0 : nil }
        case .episodic:
            let until = record.createdAt.addingTimeInterval(policy(record.owner).episodicHotTTL)
            return until > now ? until : nil
        case .semantic, .procedural: return nil
        }
    }

    /// The commands that make Redis hold `record` as it is now (or drop it when it is not hot).
    func commands(for record: MemoryRecord, now: Date) -> [[RedisArgument]] {
        let item = itemKey(record.owner, record.slice, record.id), set = setKey(record.owner, record.slice)
        guard let until = hotUntil(record, now: now) else {
            return record.slice == .working || record.slice == .episodic ? [["DEL", .init(item)], ["ZREM", .init(set), .init(record.id)]] : []
        }
        let ttl = max(1, until.millisecondsSince1970 - now.millisecondsSince1970)
        return [
            ["SET", .init(item), .init(MemoryLine.encode(record)), "PX", .init(ttl)],
            ["ZADD", .init(set), .init(until.millisecondsSince1970), .init(record.id)],
        ]
    }

    // MARK: Readiness

    /// Whether Redis serves now: on first use this connects and rebuilds the hot set from
    /// SQLite; in degraded mode it is `false` until ``run()`` brings Redis back.
    public func ready() async -> Bool {
        switch mode {
        case .ready: return true
        case .degraded: return false
        case .unknown:
            if let readying { return await readying.value }
            let task = Task { await self.rebuild() }
            readying = task
            let ok = await task.value
            readying = nil
            return ok
        }
    }

    /// Reconciles Redis with SQLite; `ready` on success, degraded otherwise.
    private func rebuild() async -> Bool {
        do {
            try await reconcile()
            mode = .ready
            degradedSince = nil
            return true
        } catch {
            degrade(error)
            return false
        }
    }

    /// Makes the hot sets in Redis exactly SQLite's: live working memory and recent episodes,
    /// each as SQLite holds it; anything else in them is dropped.
    public func reconcile() async throws {
        let now = clock.now()
        let longest = (policies.values.map(\.episodicHotTTL) + [defaultPolicy.episodicHotTTL]).max()!
        let working = try await store.query(MemoryQuery(slices: [.working], expiringAfter: now))
        let episodes = try await store.query(MemoryQuery(slices: [.episodic], createdAfter: now.addingTimeInterval(-longest)))
        var desired: [String: [String: MemoryRecord]] = [:]
        for record in working + episodes where hotUntil(record, now: now) != nil {
            desired[setKey(record.owner, record.slice), default: [:]][record.id] = record
        }
        var present: [String: [String]] = [:]
        for set in try await scanKeys("\(namespace):*:hot") {
            present[set] = try await client.send(["ZRANGE", .init(set), "0", "-1"]).array?.compactMap(\.string) ?? []
        }
        // Read back what is there, so that an item written while this process could not see
        // Redis is replaced, and an unchanged one is left alone.
        let wanted = desired.flatMap { $0.value.values }
        let stored = try await client.pipeline(wanted.map { ["GET", .init(itemKey($0.owner, $0.slice, $0.id))] })
        var commands: [[RedisArgument]] = []
        for (record, value) in zip(wanted, stored) where value.string != MemoryLine.encode(record) {
            commands += self.commands(for: record, now: now)
        }
        for (set, ids) in present {
            for id in ids where desired[set]?[id] == nil {
                commands.append(["ZREM", .init(set), .init(id)])
                commands.append(["DEL", .init(String(set.dropLast("hot".count)) + "item:" + id)])
            }
        }
        for chunk in stride(from: 0, to: commands.count, by: 1000) {
            for value in try await client.pipeline(Array(commands[chunk..<min(chunk + 1000, commands.count)])) {
                if case .error(let message) = value { throw TroupeError(.storage, "Redis refused a rebuild step: \(message)") }
            }
        }
        counters.rebuilds += 1
        lastReconcile = clock.now()
    }

    func degrade(_ error: any Error) {
        counters.failures += 1
        guard mode != .degraded else { return }
        let first = degradedSince == nil
        mode = .degraded
        degradedSince = clock.now()
        if first {
            warn("Redis at \(client.endpoint) is unreachable (\(error)); working on SQLite alone until it is back")
        }
    }

    /// Reconnects in the background while degraded (rebuilding the hot set once Redis answers),
    /// and reconciles now and then while ready, so that writes a crashed process acknowledged
    /// but never wrote through show up. Ends when cancelled.
    public func run(every interval: Duration = .milliseconds(250), reconcileEvery: Double = 30) async {
        while !Task.isCancelled {
            switch mode {
            case .degraded:
                if await client.reconnect(), await rebuild() { warn("Redis at \(client.endpoint) is back; the hot tier was rebuilt from SQLite") }
            case .ready:
                if let last = lastReconcile, clock.now().timeIntervalSince(last) > reconcileEvery { _ = await rebuild() }
            case .unknown:
                _ = await ready()
            }
            try? await Task.sleep(for: interval)
        }
    }

    // MARK: Writes

    /// Writes `records` through, after their SQLite commit. A failure only degrades the tier:
    /// SQLite has them, and the rebuild after the outage puts them in Redis.
    public func didWrite(_ records: [MemoryRecord]) async {
        guard !records.isEmpty, await ready() else { return }
        let now = clock.now()
        let commands = records.flatMap { self.commands(for: $0, now: now) }
        guard !commands.isEmpty else { return }
        do { _ = try await client.pipeline(commands) } catch { degrade(error) }
    }

    /// Drops a forgotten record from the hot tier.
    public func didForget(id: String, owner: PersonaID, slice: SliceKind) async {
        guard slice == .working || slice == .episodic, await ready() else { return }
        do {
            _ = try await client.pipeline([["DEL", .init(itemKey(owner, slice, id))], ["ZREM", .init(setKey(owner, slice)), .init(id)]])
        } catch { degrade(error) }
    }
}
