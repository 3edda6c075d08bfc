import Foundation
import TroupeCore
import TroupeStore

/// Starting a process without rebuilding everything: Redis keeps the cursor of SQLite's change
/// log up to which it holds every change (`<namespace>:synced`), and a new process applies only
/// the changes after it. Sound because the log is SQLite's: a write acknowledged by a process
/// that died before writing it through is in the log after the cursor, whoever wrote it, and a
/// server that restarted (empty) has no cursor, so the process rebuilds in full.
extension HotTier {
    var syncedKey: String { "\(namespace):synced" }

    /// Brings Redis up to date with SQLite: from the synced cursor when Redis has one and the
    /// log still reaches back to it, otherwise by a full ``reconcile()``.
    func synchronize() async throws {
        if let synced = try await client.send(["GET", .init(syncedKey)]).string.flatMap(Int64.init), try await catchUp(from: synced) {
            counters.catchUps += 1
            lastReconcile = clock.now()
            return
        }
        try await reconcile()
    }

    /// Applies the changes logged after `synced`; `false` when the log no longer reaches back
    /// that far (a full rebuild is needed).
    func catchUp(from synced: Int64) async throws -> Bool {
        var cursor = synced
        while true {
            let feed = try await store.changes(since: cursor, limit: 5000)
            if feed.mustReload { return false }
            guard feed.cursor != cursor else { break }
            let now = clock.now()
            let records = try await store.records(ids: feed.changed)
            var commands = records.flatMap { self.commands(for: $0, now: now) }
            let present = Set(records.map(\.id))
            for id in feed.removed + feed.changed.filter({ !present.contains($0) }) {
                commands += try await dropCommands(forGone: id)
            }
            try await send(commands)
            cursor = feed.cursor
        }
        try await advanceSynced(to: cursor)
        return true
    }

    /// Moves the synced cursor forward (never back: another process may be further).
    func advanceSynced(to cursor: Int64) async throws {
        try await client.send(["EVAL", .init(Self.advance), "1", .init(syncedKey), .init(cursor)])
    }

    /// The commands that take a forgotten record out of the hot tier, when it was working or
    /// episodic memory (its forget receipt says whose and which slice).
    private func dropCommands(forGone id: String) async throws -> [[RedisArgument]] {
        guard let receipt = try? await store.history(id).forgotten, let owner = PersonaID(rawValue: receipt.owner),
            let slice = SliceKind(rawValue: receipt.slice), slice == .working || slice == .episodic
        else { return [] }
        let policy = policy(owner)
        let marker = Int64(1000 * (slice == .working ? policy.workingTTL : policy.episodicHotTTL))
        return [[
            "EVAL", .init(Self.drop), "2", .init(setKey(owner, slice)), .init(itemKey(owner, slice, id)),
            .init("*:" + Self.globEscaped(id)), .init(Self.forgotten), .init(max(1, marker)),
        ]]
    }

    /// Pipelines `commands` in chunks; an error reply throws (the caller falls back or degrades).
    func send(_ commands: [[RedisArgument]]) async throws {
        for chunk in stride(from: 0, to: commands.count, by: 1000) {
            for value in try await client.pipeline(Array(commands[chunk..<min(chunk + 1000, commands.count)])) {
                if case .error(let message) = value { throw TroupeError(.storage, "Redis refused a rebuild step: \(message)") }
            }
        }
    }

    static func globEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if "*?[]\\^".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// SET the cursor unless Redis holds a larger one.
    static let advance = """
        local held = tonumber(redis.call('GET', KEYS[1]))
        if held and held >= tonumber(ARGV[1]) then return held end
        redis.call('SET', KEYS[1], ARGV[1])
        return tonumber(ARGV[1])
        """

    /// Mark the item forgotten and remove its member (creation time, colon, id) from the set.
    static let drop = """
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        local cursor = '0'
        repeat
          local reply = redis.call('ZSCAN', KEYS[1], cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
          cursor = reply[1]
          for i = 1, #reply[2], 2 do redis.call('ZREM', KEYS[1], reply[2][i]) end
        until cursor == '0'
        return 1
        """
}
