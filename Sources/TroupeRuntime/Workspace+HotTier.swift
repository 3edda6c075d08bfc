import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

extension Workspace {
    /// The Redis hot tier this configuration asks for (`redis.mode`): `managed` starts (or
    /// reuses) the home's own redis-server, `external` uses `redis.url`, `off` gives `nil`.
    /// Made once, on first use. A server that cannot be started or reached does not stop
    /// anything: the tier works on SQLite alone and says so once.
    public func hotTier() throws -> HotTier? { try lazyHotTier.get(self) }

    /// The home's managed redis-server (whether or not the config uses it).
    public var managedRedis: ManagedRedis { ManagedRedis(home: configuration.location.home) }

    /// Where the configured Redis is (`nil` for `redis.mode: off`); a malformed `redis.url`
    /// throws. Nothing is started or contacted.
    public func redisEndpoint() throws -> RedisEndpoint? {
        let redis = configuration.runtime.redis
        switch redis.mode {
        case .off: return nil
        case .external: return try RedisEndpoint(url: redis.url ?? "")
        case .managed: return managedRedis.endpoint
        }
    }

    func makeHotTier() throws -> HotTier? {
        guard let endpoint = try redisEndpoint() else { return nil }
        var restart: (@Sendable () throws -> Void)?
        if configuration.runtime.redis.mode == .managed {
            let managed = managedRedis
            restart = { try managed.start() }
            // A failure is reported by the tier's first failed use, as the outage's one warning.
            _ = try? managed.start()
        }
        let defaults = configuration.runtime.memory
        var policies: [PersonaID: HotTier.Policy] = [:]
        for persona in personas {
            policies[persona.name] = HotTier.Policy(workingTTL: persona.memory.workingTTL, episodicHotTTL: persona.memory.episodicHotTTL)
        }
        return HotTier(
            client: RedisClient(endpoint: endpoint), home: configuration.location.home, store: store, clock: clock, policies: policies,
            defaultPolicy: HotTier.Policy(workingTTL: defaults.workingTTL, episodicHotTTL: defaults.episodicHotTTL),
            warn: hotTierWarnings, restart: restart)
    }
}

/// The hot tier, made on first use.
///
/// `@unchecked Sendable`: `result` is written once, under `lock`.
final class LazyHotTier: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<HotTier?, any Error>?

    /// The tier, or `nil` when it could not be made (its endpoint is checked beforehand).
    func made(_ workspace: Workspace) -> HotTier? { (try? get(workspace)) ?? nil }

    func get(_ workspace: Workspace) throws -> HotTier? {
        try lock.withLock {
            if let result { return try result.get() }
            let made = Result { try workspace.makeHotTier() }
            result = made
            return try made.get()
        }
    }
}
