import Foundation
import TroupeCore
import TroupeStore

/// Connecting, rebuilding from SQLite, degraded mode and coming back.
extension HotTier {
    /// Whether Redis serves now: on first use this connects and brings the hot set up to date
    /// with SQLite (see ``synchronize()``); in degraded mode it is `false` until the tier
    /// reconnects.
    public func ready() async -> Bool {
        switch mode {
        case .ready: return true
        case .degraded: return false
        case .unknown:
            if let readying { return await readying.value }
            let task = Task { await self.rebuild(fully: false) }
            readying = task
            let ok = await task.value
            readying = nil
            return ok
        }
    }

    /// Reconciles Redis with SQLite; `ready` on success, degraded otherwise.
    ///
    /// The tier serves (writes go through) from the moment the rebuild starts: a write that
    /// committed before it is in the rebuild's snapshot of SQLite, one after it goes through
    /// itself, so no acknowledged write falls between the two.
    func rebuild(afterOutage: Bool = false, fully: Bool = true) async -> Bool {
        mode = .ready
        rebuilding = true
        defer { rebuilding = false }
        do {
            if fully { try await reconcile() } else { try await synchronize() }
            guard mode == .ready else { return false }
            degradedSince = nil
            if afterOutage { warn("Redis at \(client.endpoint) is back; the hot tier was rebuilt from SQLite") }
            return true
        } catch {
            degrade(error)
            return false
        }
    }

    /// Makes the hot sets in Redis SQLite's: live working memory and recent episodes, each as
    /// SQLite holds it; anything else in them is dropped.
    public func reconcile() async throws {
        // Every change up to here is in the snapshot below (or comes through by itself).
        let cursor = try await store.changeCursor()
        let now = clock.now()
        let longest = (policies.values.map(\.episodicHotTTL) + [defaultPolicy.episodicHotTTL]).max()!
        let working = try await store.query(MemoryQuery(slices: [.working], expiringAfter: now))
        let episodes = try await store.query(MemoryQuery(slices: [.episodic], createdAfter: now.addingTimeInterval(-longest)))
        var desired: [String: [String: MemoryRecord]] = [:]
        for record in working + episodes where hotUntil(record, now: now) != nil {
            desired[setKey(record.owner, record.slice), default: [:]][member(record)] = record
        }
        // Read back what is there, so that an item written while this process could not see
        // Redis is replaced, and an unchanged one is left alone.
        let wanted = desired.flatMap { $0.value.values }
        let stored = try await client.pipeline(wanted.map { ["GET", .init(itemKey($0.owner, $0.slice, $0.id))] })
        var commands: [[RedisArgument]] = []
        // Compared as records: a sealed value is never the same bytes twice.
        for (record, value) in zip(wanted, stored) where value.bytes.flatMap({ HotRecordCodec.decode($0, sealer: sealer) }) != record {
            commands += self.commands(for: record, now: now)
        }
        // Items hot in Redis but not in the snapshot: dropped unless SQLite has them hot now
        // (written since the snapshot, and through to Redis already).
        var extra: [String: (set: String, member: String)] = [:]
        for set in try await scanKeys("\(namespace):*:hot") {
            for member in try await client.send(["ZRANGE", .init(set), "0", "-1"]).array?.compactMap(\.string) ?? [] where desired[set]?[member] == nil {
                extra[id(ofMember: member)] = (set, member)
            }
        }
        let current = try await store.records(ids: extra.keys.sorted())
        let stillHot = Set(current.filter { hotUntil($0, now: clock.now()) != nil }.map(\.id))
        for (id, place) in extra where !stillHot.contains(id) {
            commands.append(["ZREM", .init(place.set), .init(place.member)])
            commands.append(["DEL", .init(String(place.set.dropLast("hot".count)) + "item:" + id)])
        }
        try await send(commands)
        try await advanceSynced(to: cursor)
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
        startReconnecting()
    }

    /// Starts the background task that brings the tier back (see ``recover()``), unless one
    /// runs or this tier was made not to. The task holds the tier only while it tries, so a
    /// tier nobody uses any more is not kept alive by it; it ends once the tier serves again.
    func startReconnecting() {
        guard reconnects, reconnector == nil else { return }
        let interval = reconnectInterval
        reconnector = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let tier = self else { return }
                if await tier.recover() { break }
            }
            await self?.reconnectorEnded()
        }
    }

    func reconnectorEnded() { reconnector = nil }

    /// One attempt to leave degraded mode: restart a managed server that is gone (at most
    /// every few seconds), reconnect, rebuild the hot set from SQLite. Whether the tier serves.
    func recover() async -> Bool {
        guard mode == .degraded else { return mode == .ready }
        if let restart, Date().timeIntervalSince(lastRestart ?? .distantPast) > 5 {
            lastRestart = Date()
            // Starting a server waits for it to answer (up to 5 s): not on the cooperative pool.
            _ = try? await offThePool("troupe.redis.restart", restart)
        }
        // Another caller may have rebuilt the tier while this one waited for the connection.
        guard await client.reconnect(), mode == .degraded else { return mode == .ready }
        return await rebuild(afterOutage: true)
    }

    /// Ends the background reconnection, if any, and closes the connection and its thread (a
    /// later use reconnects).
    public func close() async {
        reconnector?.cancel()
        reconnector = nil
        await client.close()
    }

    /// Catches up with the store's change feed now, if the tier is ready (a long-lived owner
    /// calls this when another process's commit is announced).
    public func catchUpNow() async {
        if mode == .ready { _ = await rebuild(fully: false) }
    }

    /// For a long-lived owner: catches up with SQLite's change log now and then while ready
    /// (cheap: only what changed), so that writes another process acknowledged but never wrote
    /// through (it crashed) show up, and keeps trying while degraded (which the tier also does
    /// by itself). Ends when cancelled.
    public func run(every interval: Duration = .milliseconds(250), catchUpEvery: Double = 5) async {
        while !Task.isCancelled {
            switch mode {
            case .degraded:
                _ = await recover()
            case .ready:
                if let last = lastReconcile, clock.now().timeIntervalSince(last) > catchUpEvery { _ = await rebuild(fully: false) }
            case .unknown:
                _ = await ready()
            }
            try? await Task.sleep(for: interval)
        }
    }
}
