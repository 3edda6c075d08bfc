import Foundation
import TroupeCore
import TroupeStore

extension HotTier {
    /// The recall answer cached under `key`, if any; the lookup counts as a hit or a miss in
    /// Redis (for every process's `memory stats`) in the same round trip.
    public func cached(_ key: String) async -> [UInt8]? {
        guard await ready() else { return nil }
        do {
            let value = try await client.send(["EVAL", .init(Self.lookup), "2", .init(cacheKey(key)), .init(statsKey)])
            if case .bulk(let bytes) = value {
                counters.cacheHits += 1
                return bytes
            }
            counters.cacheMisses += 1
            return nil
        } catch {
            degrade(error)
            return nil
        }
    }

    /// Caches a recall answer for `ttl` seconds.
    public func cache(_ key: String, _ value: [UInt8], ttl: Double) async {
        guard ttl > 0, await ready() else { return }
        do {
            try await client.send(["SET", .init(cacheKey(key)), .init(bytes: value), "PX", .init(Int64(ttl * 1000))])
        } catch {
            degrade(error)
        }
    }

    func cacheKey(_ key: String) -> String { "\(namespace):cache:\(key)" }

    /// GET the cached answer and count the outcome, atomically.
    static let lookup = """
        local v = redis.call('GET', KEYS[1])
        if v then redis.call('HINCRBY', KEYS[2], 'hits', 1) else redis.call('HINCRBY', KEYS[2], 'misses', 1) end
        return v
        """

    /// What `memory stats` and `doctor` show of the tier.
    public struct Stats: Sendable {
        public var endpoint: String
        public var mode: Mode
        public var degradedSince: Date?
        /// Live hot items by `owner/slice`.
        public var hotItems: [String: Int]
        /// Cache lookups by every process since the server started.
        public var cacheHits: Int
        public var cacheMisses: Int

        public var hitRate: Double? { cacheHits + cacheMisses > 0 ? Double(cacheHits) / Double(cacheHits + cacheMisses) : nil }
    }

    /// Hot item counts and cache figures as Redis holds them. It reads only (no rebuild), so
    /// `doctor` can call it; a tier that answers reports itself ready, one that cannot reach
    /// Redis degraded.
    public func stats() async -> Stats {
        var stats = Stats(endpoint: client.endpoint.description, mode: mode, degradedSince: degradedSince, hotItems: [:], cacheHits: 0, cacheMisses: 0)
        guard mode != .degraded else { return stats }
        let now = clock.now()
        do {
            let prefix = "\(namespace):"
            for set in try await scanKeys("\(namespace):*:hot") {
                let live = try await client.send(["ZCOUNT", .init(set), "(\(now.millisecondsSince1970)", "+inf"]).integer ?? 0
                let name = set.dropFirst(prefix.count).dropLast(":hot".count).replacingOccurrences(of: ":", with: "/")
                if live > 0 { stats.hotItems[name] = Int(live) }
            }
            let counts = try await client.send(["HMGET", .init(statsKey), "hits", "misses"]).array ?? []
            stats.cacheHits = Int(counts.first?.integer ?? 0)
            stats.cacheMisses = Int(counts.dropFirst().first?.integer ?? 0)
            stats.mode = mode == .unknown ? .ready : mode
        } catch {
            degrade(error)
            stats.mode = mode
        }
        stats.degradedSince = degradedSince
        return stats
    }

    func scanKeys(_ pattern: String) async throws -> [String] {
        var cursor = "0", keys: [String] = []
        repeat {
            let reply = try await client.send(["SCAN", .init(cursor), "MATCH", .init(pattern), "COUNT", "1000"]).array ?? []
            cursor = reply.first?.string ?? "0"
            keys += reply.dropFirst().first?.array?.compactMap(\.string) ?? []
        } while cursor != "0"
        return keys
    }
}
