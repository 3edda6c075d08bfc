import Foundation
import TroupeCore
import TroupeStore

extension HotTier {
    /// An owner's live working memory, at most `limit` items: those used last (written or
    /// refreshed), newest first. From Redis when it serves, else from SQLite; either way the
    /// items read are refreshed (see ``refreshing``), in SQLite and in Redis alike.
    public func working(_ owner: PersonaID, limit: Int) async throws -> [MemoryRecord] {
        let now = clock.now()
        var records: [MemoryRecord]
        if await ready(), let hot = await hotItems(owner, .working, limit: limit, liveAt: now) {
            counters.hotReads += 1
            records = hot
        } else {
            counters.sqliteReads += 1
            records = try await Self.liveWorking(owner, limit: limit, in: store, now: now)
        }
        records.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        let (read, renewed) = try await Self.refreshing(records, in: store, ttl: policy(owner).workingTTL, now: now)
        await didWrite(renewed)
        return read
    }

    /// Live working memory as SQLite alone holds it: the `limit` items used last (latest
    /// expiry), newest first.
    public static func liveWorking(_ owner: PersonaID, limit: Int, in store: any MemoryStore, now: Date) async throws -> [MemoryRecord] {
        let live = try await store.query(MemoryQuery(owners: [owner], slices: [.working], order: .expiringLast, limit: limit, expiringAfter: now))
        return live.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// Working memory as read: the items past half their TTL get a full TTL again in `store`
    /// (at most one write per item per half TTL, and Redis's TTL always equals SQLite's
    /// expiry). Returns the records as they are now, and those that were renewed.
    public static func refreshing(
        _ records: [MemoryRecord], in store: any MemoryStore, ttl: Double, now: Date
    ) async throws -> (records: [MemoryRecord], renewed: [MemoryRecord]) {
        let stale = Set(records.filter { ($0.expiresAt ?? now) < now.addingTimeInterval(ttl / 2) }.map(\.id))
        guard !stale.isEmpty else { return (records, []) }
        let expiry = now.addingTimeInterval(ttl)
        _ = try await store.extendExpiry(stale.sorted(), to: expiry)
        var read = records
        for i in read.indices where stale.contains(read[i].id) { read[i].expiresAt = expiry }
        return (read, read.filter { stale.contains($0.id) })
    }

    /// An owner's episodes newest first, at most `limit`: the hot ones (their first day) from
    /// Redis when it serves, older ones (or all, when degraded) from SQLite.
    public func recentEpisodes(_ owner: PersonaID, limit: Int) async throws -> [MemoryRecord] {
        let now = clock.now()
        var records: [MemoryRecord] = []
        var olderThan: Date?
        if await ready(), let hot = await hotItems(owner, .episodic, limit: limit, liveAt: now) {
            counters.hotReads += 1
            records = hot
            olderThan = now.addingTimeInterval(-policy(owner).episodicHotTTL)
        }
        if records.count < limit {
            counters.sqliteReads += 1
            let older = try await store.query(MemoryQuery(
                owners: [owner], slices: [.episodic], createdBefore: olderThan.map { $0.addingTimeInterval(0.001) }, limit: limit - records.count))
            let seen = Set(records.map(\.id))
            records += older.filter { !seen.contains($0.id) }
        }
        return records
    }

    /// Up to `limit` items of a hot set still live at `now`, latest expiry first, in one round
    /// trip per page; `nil` when Redis failed (the caller reads SQLite instead). Ids whose
    /// item is gone are dropped from the set as they are found.
    private func hotItems(_ owner: PersonaID, _ slice: SliceKind, limit: Int, liveAt now: Date) async -> [MemoryRecord]? {
        let set = setKey(owner, slice), prefix = itemKey(owner, slice, "")
        var records: [MemoryRecord] = []
        var offset = 0
        do {
            while records.count < limit {
                let page = min(limit - records.count, 1000)
                let reply = try await client.send([
                    "EVAL", .init(Self.page), "1", .init(set), "(\(now.millisecondsSince1970)", .init(offset), .init(page), .init(prefix),
                ]).array ?? []
                let members = reply.first?.array?.compactMap(\.string) ?? []
                let values = reply.dropFirst().first?.array ?? []
                var gone: [String] = []
                for (member, value) in zip(members, values) {
                    guard let bytes = value.bytes, let record = HotRecordCodec.decode(bytes, sealer: sealer), hotUntil(record, now: now) != nil
                    else {
                        gone.append(member)
                        continue
                    }
                    records.append(record)
                }
                if !gone.isEmpty { try await client.send([RedisArgument("ZREM"), RedisArgument(set)] + gone.map { RedisArgument($0) }) }
                guard members.count == page else { break }
                offset += page - gone.count
            }
            return records
        } catch {
            degrade(error)
            return nil
        }
    }

    /// One page of a hot set, latest expiry first, with the items' values:
    /// `{members, values}` for KEYS[1] = the set, ARGV = min score, offset, count, item key
    /// prefix (a member is creation time, a colon, the id: see ``member(_:)``).
    static let page = """
        local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', ARGV[2], ARGV[3])
        if #members == 0 then return {{}, {}} end
        local keys = {}
        for i, m in ipairs(members) do keys[i] = ARGV[4] .. string.sub(m, string.find(m, ':', 1, true) + 1) end
        return {members, redis.call('MGET', unpack(keys))}
        """
}
