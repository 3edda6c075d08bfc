import Foundation
import Logging
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeStore

extension Runtime {
    /// The Redis hot tier this configuration asks for (`redis.mode`): `managed` starts (or
    /// reuses) the home's own redis-server, `external` uses `redis.url`, `off` gives `nil`.
    /// Made once, on first use, off the cooperative pool (starting a managed server waits for it
    /// to answer, up to 5 s). A server that cannot be started or reached does not stop
    /// anything: the tier works on SQLite alone and says so once.
    public func hotTier() async -> HotTier? { await lazyHotTier.made() }

    /// The home's managed redis-server (whether or not the config uses it).
    public var managedRedis: ManagedRedis { ManagedRedis(home: configuration.location.home, idleStop: configuration.runtime.redis.idleStop) }

    /// Where the configured Redis is (`nil` for `redis.mode: off`); a malformed `redis.url`
    /// throws. Nothing is started or contacted.
    static func redisEndpoint(_ configuration: Configuration) throws -> RedisEndpoint? {
        let redis = configuration.runtime.redis
        switch redis.mode {
        case .off: return nil
        case .external: return try RedisEndpoint(url: redis.url ?? "")
        case .managed: return ManagedRedis(home: configuration.location.home).endpoint
        }
    }

    static func makeHotTier(
        _ configuration: Configuration, endpoint: RedisEndpoint, store: any MemoryStore, registry: PersonaRegistry,
        clock: any WallClock, logger: Logger
    ) throws -> HotTier {
        var restart: (@Sendable () throws -> Void)?
        if configuration.runtime.redis.mode == .managed {
            let managed = ManagedRedis(home: configuration.location.home, idleStop: configuration.runtime.redis.idleStop)
            restart = { try managed.start() }
            // A failure is reported by the tier's first failed use, as the outage's one warning.
            _ = try? managed.start()
        }
        let defaults = configuration.runtime.memory
        var policies: [PersonaID: HotTier.Policy] = [:]
        for persona in registry.personas {
            policies[persona.name] = HotTier.Policy(workingTTL: persona.memory.workingTTL, episodicHotTTL: persona.memory.episodicHotTTL)
        }
        return HotTier(
            client: RedisClient(endpoint: endpoint), home: configuration.location.home, store: store, clock: clock, policies: policies,
            defaultPolicy: HotTier.Policy(workingTTL: defaults.workingTTL, episodicHotTTL: defaults.episodicHotTTL),
            warn: { logger.warning("\($0)") }, restart: restart)
    }
}

/// The hot tier, made on first use (on a thread of its own: it may start a redis-server).
final class LazyHotTier: Sendable {
    private let once: MadeOnce<HotTier?>

    init(_ make: @escaping @Sendable () throws -> HotTier?) { once = MadeOnce("troupe.hot-tier.start", make) }

    /// The tier, made now if need be; `nil` when Redis is off or the tier could not be made.
    func made() async -> HotTier? { (try? await once.value()) ?? nil }

    /// The tier if it was made already (nothing is started).
    var existing: HotTier? { once.existing ?? nil }
}

extension Runtime {
    /// What the home's managed server holds, looked at without starting, reconnecting or
    /// rebuilding anything.
    public func managedHotTierStats() async -> HotTier.Stats? {
        let tier = HotTier(
            client: RedisClient(endpoint: managedRedis.endpoint), home: configuration.location.home, store: store, clock: clock,
            reconnects: false)
        let stats = await tier.stats()
        await tier.close()
        return stats
    }
}
