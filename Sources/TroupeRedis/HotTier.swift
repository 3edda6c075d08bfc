import Foundation
import TroupeCore
import TroupeStore

/// The hot, TTL'd part of memory in Redis; SQLite stays the truth (see DESIGN.md).
///
/// - Working memory is written through after its SQLite commit, with its expiry as TTL; a read
///   refreshes it (in SQLite too, once it is past half its life, so the two always agree).
/// - Episodic memories are hot for their first day (per persona), then served from SQLite.
/// - Recalls over semantic and procedural slices are cached under a key that includes each
///   slice's version counter from SQLite: any write, by any process, changes the key.
/// - When Redis cannot be reached every operation works on SQLite alone (degraded mode, one
///   warning per outage); a background task reconnects (restarting a managed server), and the
///   hot set is then rebuilt from SQLite, as it is when a process first uses the tier.
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
    /// What seals each item (an encrypted home's vault, as its store): Redis holds nothing of a
    /// memory that the store would not.
    let sealer: any RecordSealer
    let clock: any WallClock
    let policies: [PersonaID: Policy]
    let defaultPolicy: Policy
    let warn: @Sendable (String) -> Void
    /// Brings the server back when it is ours (managed) and gone; called by ``run()`` while
    /// degraded, at most every few seconds.
    let restart: (@Sendable () throws -> Void)?
    var lastRestart: Date?
    /// Whether degraded mode starts a background task that reconnects (not for `doctor`,
    /// which only looks), and how often it tries.
    let reconnects: Bool
    let reconnectInterval: Duration
    var reconnector: Task<Void, Never>?
    public internal(set) var mode = Mode.unknown
    /// Whether a rebuild from SQLite is under way (the tier serves meanwhile).
    public internal(set) var rebuilding = false
    var readying: Task<Bool, Never>?
    var degradedSince: Date?
    var lastReconcile: Date?
    var reportedRefusal = false
    /// What this process did: reads served from Redis or from SQLite, cache use, rebuilds.
    public internal(set) var counters = Counters()

    public struct Counters: Sendable, Hashable {
        public var hotReads = 0, sqliteReads = 0, cacheHits = 0, cacheMisses = 0, rebuilds = 0, catchUps = 0, failures = 0
    }

    public init(
        client: RedisClient, home: URL, store: any MemoryStore, clock: any WallClock, policies: [PersonaID: Policy] = [:],
        defaultPolicy: Policy = Policy(), warn: @escaping @Sendable (String) -> Void = { _ in },
        restart: (@Sendable () throws -> Void)? = nil, reconnects: Bool = true, reconnectInterval: Duration = .milliseconds(250)
    ) {
        self.restart = restart
        self.reconnects = reconnects
        self.reconnectInterval = reconnectInterval
        self.client = client
        namespace = "troupe:" + SHA256.hex(of: Array(home.standardizedFileURL.path.utf8)).prefix(12)
        self.store = store
        sealer = (store as? any MigrationEndpoint)?.sealer ?? PlainSealer()
        self.clock = clock
        self.policies = policies
        self.defaultPolicy = defaultPolicy
        self.warn = warn
    }

    func policy(_ owner: PersonaID) -> Policy { policies[owner] ?? defaultPolicy }

    // MARK: Keys

    nonisolated func itemKey(_ owner: PersonaID, _ slice: SliceKind, _ id: String) -> String { "\(namespace):\(owner):\(slice.rawValue):item:\(id)" }
    nonisolated func setKey(_ owner: PersonaID, _ slice: SliceKind) -> String { "\(namespace):\(owner):\(slice.rawValue):hot" }
    nonisolated var statsKey: String { "\(namespace):stats" }

    /// A record's member in its hot set: its creation time (15 digits) and id, so that items
    /// hot until the same moment come newest first, as SQLite orders them (scores tie, and
    /// Redis then orders members by their bytes).
    nonisolated func member(_ record: MemoryRecord) -> String {
        let created = max(0, record.createdAt.millisecondsSince1970)
        let digits = String(created)
        return String(repeating: "0", count: max(0, 15 - digits.count)) + digits + ":" + record.id
    }

    /// The record id in a hot set's member.
    nonisolated func id(ofMember member: String) -> String {
        member.firstIndex(of: ":").map { String(member[member.index(after: $0)...]) } ?? member
    }

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
    ///
    /// Write-throughs may arrive out of order (two writers, two processes, a rebuild beside a
    /// write), so an item is only replaced by the same or a newer version, and never after it
    /// was forgotten (see ``put`` and ``didForget(_:)``).
    func commands(for record: MemoryRecord, now: Date) -> [[RedisArgument]] {
        let item = itemKey(record.owner, record.slice, record.id), set = setKey(record.owner, record.slice)
        let drop: [[RedisArgument]] = [["DEL", .init(item)], ["ZREM", .init(set), .init(member(record))]]
        guard let until = hotUntil(record, now: now) else {
            return record.slice == .working || record.slice == .episodic ? drop : []
        }
        let value: [UInt8]
        do { value = try HotRecordCodec.encode(record, sealer: sealer) } catch {
            // Not sealed (its key could not be made): dropped, so that reads go to the store.
            warn("a hot copy of \(record.id) could not be sealed (\(error)); it is read from the store")
            return drop
        }
        let ttl = max(1, until.millisecondsSince1970 - now.millisecondsSince1970)
        return [[
            "EVAL", .init(Self.put), "2", .init(item), .init(set),
            .init(bytes: value), .init(record.version), .init(ttl), .init(until.millisecondsSince1970), .init(member(record)),
        ]]
    }

    /// SET the item and ZADD it to its hot set, unless Redis holds a newer version (or the same
    /// version hot for longer), or the forget marker.
    static let put = """
        local old = redis.call('GET', KEYS[1])
        if old == 'forgotten' then return 0 end
        if old then
          local version = tonumber(string.match(old, '^(%d+)\\n'))
          if version and version > tonumber(ARGV[2]) then return 0 end
          local score = redis.call('ZSCORE', KEYS[2], ARGV[5])
          if version == tonumber(ARGV[2]) and score and tonumber(score) > tonumber(ARGV[4]) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
        return 1
        """

    /// What a forgotten item's key holds for a while, so that a write-through still on its
    /// way cannot bring it back.
    static let forgotten = "forgotten"

    // MARK: Writes

    /// Writes `records` through, after their SQLite commit. A failure only degrades the tier:
    /// SQLite has them, and the rebuild after the outage puts them in Redis.
    public func didWrite(_ records: [MemoryRecord]) async {
        guard !records.isEmpty, await ready() else { return }
        let now = clock.now()
        let commands = records.flatMap { self.commands(for: $0, now: now) }
        guard !commands.isEmpty else { return }
        await apply(commands)
    }

    /// Sends write-through commands. Unreachable Redis degrades the tier; a command Redis
    /// refuses is counted and reported once (the item is then served from SQLite, and the
    /// next rebuild tries again).
    func apply(_ commands: [[RedisArgument]]) async {
        do {
            let replies = try await client.pipeline(commands)
            for (command, reply) in zip(commands, replies) {
                guard case .error(let message) = reply else { continue }
                counters.failures += 1
                if !reportedRefusal {
                    reportedRefusal = true
                    warn("Redis refused a write-through (\(command.first?.name ?? "?")): \(message); SQLite has the write")
                }
            }
        } catch {
            degrade(error)
        }
    }

    /// Drops a forgotten record from the hot tier, leaving a marker (for as long as the item
    /// could have stayed hot) that keeps late write-throughs of it out.
    public func didForget(_ record: MemoryRecord) async {
        let (owner, slice, id) = (record.owner, record.slice, record.id)
        guard slice == .working || slice == .episodic, await ready() else { return }
        let policy = policy(owner)
        let marker = Int64(1000 * (slice == .working ? policy.workingTTL : policy.episodicHotTTL))
        await apply([
            ["SET", .init(itemKey(owner, slice, id)), .init(Self.forgotten), "PX", .init(max(1, marker))],
            ["ZREM", .init(setKey(owner, slice)), .init(member(record))],
        ])
    }
}
