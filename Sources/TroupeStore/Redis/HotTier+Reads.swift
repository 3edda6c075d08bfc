import Foundation
import TroupeCore

extension HotTier {
    /// An owner's live working memory, newest first, at most `limit`: from Redis when it serves,
    /// else from SQLite. Either way the items read are refreshed (see ``refreshing``), in
    /// SQLite and in Redis alike.
    public func working(_ owner: PersonaID, limit: Int) async throws -> [MemoryRecord] {
        let now = clock.now()
        var records: [MemoryRecord]
        if await ready(), let hot = try? await hotItems(owner, .working, liveAt: now) {
            counters.hotReads += 1
            records = hot
        } else {
            counters.sqliteReads += 1
            records = try await store.query(MemoryQuery(owners: [owner], slices: [.working], expiringAfter: now))
        }
        records.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        let (read, renewed) = try await Self.refreshing(
            Array(records.prefix(limit)), in: store, ttl: policy(owner).workingTTL, now: now)
        await didWrite(renewed)
        return read
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
        if await ready(), let hot = try? await hotItems(owner, .episodic, liveAt: now) {
            counters.hotReads += 1
            records = hot.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            olderThan = now.addingTimeInterval(-policy(owner).episodicHotTTL)
        }
        if records.count < limit {
            counters.sqliteReads += 1
            let older = try await store.query(MemoryQuery(
                owners: [owner], slices: [.episodic], createdBefore: olderThan.map { $0.addingTimeInterval(0.001) }, limit: limit - records.count))
            let seen = Set(records.map(\.id))
            records += older.filter { !seen.contains($0.id) }
        }
        return Array(records.prefix(limit))
    }

    /// The items of a hot set still live at `now`; `nil` when Redis failed (the caller reads
    /// SQLite instead). Ids whose item expired are dropped from the set as they are found.
    private func hotItems(_ owner: PersonaID, _ slice: SliceKind, liveAt now: Date) async throws -> [MemoryRecord]? {
        let set = setKey(owner, slice)
        do {
            let ids = try await client.send(["ZRANGEBYSCORE", .init(set), "(\(now.millisecondsSince1970)", "+inf"]).array?.compactMap(\.string) ?? []
            guard !ids.isEmpty else { return [] }
            let values = try await client.send([RedisArgument("MGET")] + ids.map { RedisArgument(itemKey(owner, slice, $0)) }).array ?? []
            var records: [MemoryRecord] = [], gone: [String] = []
            let context = MemoryLine.Context(now: now)
            for (id, value) in zip(ids, values) {
                guard let text = value.string, case .success(let record) = MemoryLine.decode(Data(text.utf8), line: 0, context: context) else {
                    gone.append(id)
                    continue
                }
                records.append(record)
            }
            if !gone.isEmpty { _ = try await client.send([RedisArgument("ZREM"), RedisArgument(set)] + gone.map { RedisArgument($0) }) }
            return records
        } catch {
            degrade(error)
            return nil
        }
    }
}
