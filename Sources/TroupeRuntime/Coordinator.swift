import Foundation
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeRetrieval
import TroupeStore

/// The registry of personas and the owner of the shared slices.
///
/// Every write to a shared slice comes here with the version it was based on. Writes that
/// arrive while a commit is under way are committed together in the next one (a group commit:
/// one transaction and one fsync for all of them), and the store resolves each stale write by
/// the slice's policy inside that transaction, so writers in other processes obey it too.
/// Recalls from many personas go through one ``RecallBatcher``.
public actor Coordinator {
    /// The one write path (store, hot tier, index, embedder, clock, ids).
    package nonisolated let writes: MemoryWrites
    /// The personas and shared slices in force.
    package nonisolated let registry: PersonaRegistry
    nonisolated let recallerSource: @Sendable () async throws -> Recaller
    nonisolated let batchWindow: Duration
    nonisolated let defaultLimit: Int
    /// The embedding model's id, known without loading it (part of a cached recall's key).
    nonisolated let modelID: String?
    /// Memory policy of owners that are not personas (shared slices).
    nonisolated let defaultMemory: MemoryPolicy
    private var batcher: RecallBatcher?
    /// Persona actors in use. Weak: they hold the coordinator; one that nobody holds any more
    /// is made again when next asked for (its seeds are already loaded by then).
    private var actors: [PersonaID: WeakPersona] = [:]
    private var pending: [(write: SharedWrite, reply: CheckedContinuation<SharedWriteOutcome, any Error>)] = []
    private var committing = false
    /// Callers of ``drain()`` waiting for the commits under way.
    private var drained: [CheckedContinuation<Void, Never>] = []
    /// Shared writes committed, the commits they took, and how many were stale.
    public private(set) var committed = (writes: 0, commits: 0, conflicts: 0)

    package init(
        registry: PersonaRegistry, writes: MemoryWrites, recaller: @escaping @Sendable () async throws -> Recaller,
        batchWindow: Duration = .milliseconds(2), defaultLimit: Int = 10, modelID: String? = nil,
        defaultMemory: MemoryPolicy = MemoryPolicy()
    ) {
        self.registry = registry
        self.writes = writes
        self.recallerSource = recaller
        self.batchWindow = batchWindow
        self.defaultLimit = defaultLimit
        self.modelID = modelID
        self.defaultMemory = defaultMemory
    }

    public nonisolated var store: any MemoryStore { writes.store }
    public nonisolated var clock: any WallClock { writes.clock }
    /// The Redis hot tier, if configured; made (and a managed server started) on first use.
    public nonisolated var hot: HotTier? { get async { await writes.hot() } }
    /// Shared slices by name: kind, members, policy.
    public nonisolated var sharedSlices: [PersonaID: RuntimeConfig.SharedSlice] { registry.sharedSlices }

    /// The actor of the persona named `name`, started (its seeds loaded) on first use. A
    /// persona whose definition changed since its actor was made gets a new actor; one whose
    /// file was removed is not found (its memory stays).
    public func persona(_ name: String) async throws -> PersonaActor {
        guard let id = PersonaID(rawValue: name), let definition = registry.persona(id) else {
            let names = registry.personas.map(\.name.rawValue)
            var message = "unknown persona '\(name)'"
            if let id = PersonaID(rawValue: name), registry.wasRemoved(id) {
                message = "persona '\(name)' was removed (its file is gone; its memory is kept)"
            } else if let guess = Suggestion.closest(to: name, in: names) {
                message += " (did you mean '\(guess)'?)"
            }
            message += names.isEmpty ? "; no personas are defined" : "; known personas: \(names.joined(separator: ", "))"
            throw TroupeError(.notFound, message)
        }
        let actor: PersonaActor
        if let known = actors[id]?.actor, known.definition == definition {
            actor = known
        } else {
            actor = PersonaActor(definition: definition, memberships: memberships(of: id), coordinator: self)
            actors[id] = WeakPersona(actor: actor)
        }
        try await actor.start()
        return actor
    }

    /// The shared slices `persona` is a member of, by name.
    public nonisolated func memberships(of persona: PersonaID) -> [PersonaID] { registry.memberships(of: persona) }

    /// The shared slice named `name`, if `persona` is one of its members; otherwise a denial
    /// (or not-found for a slice that does not exist).
    nonisolated func slice(_ name: PersonaID, for persona: PersonaID) throws -> RuntimeConfig.SharedSlice {
        let slices = registry.sharedSlices
        guard let slice = slices[name] else {
            let names = slices.keys.map(\.rawValue).sorted()
            throw TroupeError(.notFound, "no shared slice '\(name)'; shared slices: \(names.joined(separator: ", "))")
        }
        guard slice.members.contains(persona) else {
            throw TroupeError(
                .denied, "\(persona) is not a member of the shared slice '\(name)' (members: \(slice.members.map(\.rawValue).joined(separator: ", ")))")
        }
        return slice
    }

    // MARK: Shared writes

    /// Writes to a shared slice for `write.writer`, who must be a member; the slice's policy
    /// resolves a stale write. A rejected write throws a conflict carrying the current version.
    func write(_ write: SharedWrite) async throws -> SharedWriteOutcome {
        var write = write
        let slice = try slice(write.owner, for: write.writer)
        write.slice = slice.kind
        write.policy = slice.policy
        // The id of a new record comes from the runtime's generator, not the store.
        if write.id == nil { write.id = writes.ids.next("m") }
        let outcome = try await withCheckedThrowingContinuation { reply in
            pending.append((write, reply))
            if !committing {
                committing = true
                Task { await self.commitPending() }
            }
        }
        if outcome.kind == .rejected {
            throw TroupeError(
                .conflict,
                "the write was based on version \(write.baseVersion), but \(outcome.current.id) is at version \(outcome.current.version) "
                    + "(by \(outcome.current.source)); '\(slice.name)' rejects stale writes: read it again and retry (audit #\(outcome.audit ?? 0))",
                context: outcome.current.id, currentVersion: outcome.current.version)
        }
        return outcome
    }

    /// Commits whatever is pending, one transaction at a time, until nothing is.
    private func commitPending() async {
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll()
            do {
                let results = try await writes.shared(batch.map(\.write), priorities: registry.priorities)
                committed.writes += batch.count
                committed.commits += 1
                for (item, result) in zip(batch, results) {
                    if case .success(let outcome) = result, outcome.conflicted { committed.conflicts += 1 }
                    item.reply.resume(with: result.mapError { $0 as any Error })
                }
            } catch {
                // Nothing of the batch was written.
                for item in batch { item.reply.resume(throwing: error) }
            }
        }
        committing = false
        for waiter in drained { waiter.resume() }
        drained.removeAll()
    }

    /// Returns once no shared write is waiting or being committed (for a clean shutdown).
    package func drain() async {
        guard committing || !pending.isEmpty else { return }
        await withCheckedContinuation { drained.append($0) }
    }

    /// Forgets a record of a shared slice for `persona`, who must be a member.
    func forgetShared(_ record: MemoryRecord, by persona: PersonaID, reason: String?) async throws -> ForgetReceipt {
        _ = try slice(record.owner, for: persona)
        return try await writes.forget(record, reason: reason ?? "forgotten by \(persona)")
    }

    // MARK: Reading

    /// Audit lines of stale shared writes, newest first.
    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] { try await store.audit(query) }

    /// Recalls through the batcher: requests that arrive together are answered as one batch.
    /// Recalls over semantic and procedural slices are answered from the hot tier's cache when
    /// it holds the answer for the slices' current versions.
    func recall(_ request: RecallRequest) async throws -> [RecallHit] {
        let start = ContinuousClock.now
        var cache = "none"
        defer { RuntimeMetrics.recall(seconds: Self.seconds(since: start), cache: cache) }
        guard let hot = await hot, Self.cacheable(request) else { return try await batched(request) }
        let versions = try await store.sliceVersions(owners: request.owners, slices: request.slices ?? [])
        let key = cacheKey(request, versions: versions)
        if let bytes = await hot.cached(key), let cached = Self.decodeCached(bytes) {
            cache = "hit"
            let records = Dictionary(try await store.records(ids: cached.map(\.id)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            try await store.touch(records.keys.sorted(), at: clock.now())
            return cached.compactMap { hit in records[hit.id].map { RecallHit(record: $0, score: hit.score, components: hit.components) } }
        }
        cache = "miss"
        let hits = try await batched(request)
        await hot.cache(key, Self.encodeCached(hits), ttl: cacheTTL(request))
        return hits
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }

    /// Recalls through the batcher, without the cache.
    private func batched(_ request: RecallRequest) async throws -> [RecallHit] {
        if let batcher { return try await batcher.recall(request) }
        let recaller = try await recallerSource()
        // Another recall may have made the batcher while this one waited for the embedder.
        let batcher = self.batcher ?? RecallBatcher(recaller: recaller, window: batchWindow)
        self.batcher = batcher
        return try await batcher.recall(request)
    }

    /// Recalls for requests that already form a batch.
    func recall(batch requests: [RecallRequest]) async throws -> [[RecallHit]] {
        try await recallerSource().recall(batch: requests)
    }

    /// Recall batches answered so far, and the requests in them.
    public var recallBatches: (batches: Int, requests: Int) {
        get async { (await batcher?.batches ?? 0, await batcher?.requests ?? 0) }
    }
}

/// A persona actor the registry does not keep alive.
struct WeakPersona {
    weak var actor: PersonaActor?
}
