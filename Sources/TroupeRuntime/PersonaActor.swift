import Foundation
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeRetrieval
import TroupeStore

/// One persona: the only writer of its four private slices, and its way into the shared slices
/// it belongs to (through the ``Coordinator``).
///
/// Every operation that names a record checks that the record is the persona's own or in one of
/// its shared slices; anything else is denied, whether reading, writing, forgetting or asking
/// for the history.
public actor PersonaActor {
    public nonisolated let definition: PersonaDefinition
    /// The shared slices this persona belongs to.
    public nonisolated let memberships: [PersonaID]
    /// Held strongly: a persona is all some callers keep. The coordinator holds its personas
    /// weakly, so there is no cycle.
    let coordinator: Coordinator
    private var state = State.new

    private enum State {
        case new
        case starting(Task<Void, any Error>)
        case ready
    }

    init(definition: PersonaDefinition, memberships: [PersonaID], coordinator: Coordinator) {
        self.definition = definition
        self.memberships = memberships
        self.coordinator = coordinator
    }

    public nonisolated var name: PersonaID { definition.name }

    /// Whose memory this persona may read: its own and its shared slices'.
    public nonisolated var readableOwners: [PersonaID] { [name] + memberships }

    var store: any MemoryStore { coordinator.store }
    var writes: MemoryWrites { coordinator.writes }
    var clock: any WallClock { coordinator.clock }
    var hot: HotTier? { get async { await coordinator.hot } }

    /// Loads the persona's procedural seeds, once; later calls return at once.
    func start() async throws {
        switch state {
        case .ready: return
        case .starting(let task): return try await task.value
        case .new:
            let task = Task { [definition, writes] in
                _ = try await ProceduralSeeds.load([definition], through: writes)
            }
            state = .starting(task)
            do {
                try await task.value
                state = .ready
            } catch {
                state = .new
                throw error
            }
        }
    }

    // MARK: Private slices

    /// Writes a new memory to one of this persona's private slices. Working memory gets the
    /// persona's working TTL as its expiry.
    public func remember(
        _ content: String, in slice: SliceKind, importance: Double = 0.5, tags: [String] = [], metadata: JSONValue? = nil
    ) async throws -> MemoryRecord {
        let text = try Self.validated(content, importance: importance)
        let now = clock.now()
        var record = MemoryRecord(
            id: writes.ids.next("m"), owner: name, slice: slice, content: text, importance: importance, tags: tags,
            source: name.rawValue, createdAt: now, metadata: metadata)
        if slice == .working { record.expiresAt = now.addingTimeInterval(definition.memory.workingTTL) }
        // Record and vector in one commit; acknowledged once SQLite has it, Redis follows.
        return try await writes.add(record)
    }

    /// Writes several new memories to this persona's private slices at once: one embedding
    /// batch and one commit (what a conversation turn stores).
    public func remember(_ items: [(content: String, slice: SliceKind, importance: Double, metadata: JSONValue?)]) async throws
        -> [MemoryRecord]
    {
        let start = clock.now()
        let records = try items.enumerated().map { index, item in
            // A millisecond apart, so that they keep their order (a message before its reply).
            let now = start.addingTimeInterval(Double(index) / 1000)
            var record = MemoryRecord(
                id: writes.ids.next("m"), owner: name, slice: item.slice, content: try Self.validated(item.content, importance: item.importance),
                importance: item.importance, source: name.rawValue, createdAt: now, metadata: item.metadata)
            if item.slice == .working { record.expiresAt = now.addingTimeInterval(definition.memory.workingTTL) }
            return record
        }
        return try await writes.add(records, writer: name.rawValue)
    }

    /// Writes a new version of a record based on version `base`: one of this persona's own (a
    /// stale base is a conflict), or one of a shared slice it belongs to (the slice's policy
    /// decides).
    public func update(_ id: String, basedOn base: Int, change: MemoryChange) async throws -> SharedWriteOutcome {
        if let content = change.content { _ = try Self.validated(content, importance: change.importance ?? 0.5) }
        let record = try await readable(id)
        if record.owner != name {
            var vector: EmbeddedVector?
            if let content = change.content { vector = try await writes.embed(content) }
            return try await coordinator.write(SharedWrite(
                id: id, owner: record.owner, slice: record.slice, writer: name, baseVersion: base, change: change,
                policy: .reject, vector: vector))
        }
        let next = try await writes.update(id, basedOn: base, change: change, writer: name.rawValue)
        return SharedWriteOutcome(kind: .applied, current: next)
    }

    /// Forgets a record of this persona's, or of a shared slice it belongs to.
    public func forget(_ id: String, reason: String? = nil) async throws -> ForgetReceipt {
        let record = try await readable(id)
        if record.owner != name { return try await coordinator.forgetShared(record, by: name, reason: reason) }
        return try await writes.forget(record, reason: reason)
    }

    /// A record this persona may read.
    public func record(_ id: String) async throws -> MemoryRecord { try await readable(id) }

    /// Every version of a record this persona may read, and the values that lost conflicts.
    public func history(_ id: String) async throws -> RecordHistory {
        let history: RecordHistory
        do { history = try await store.history(id) } catch let error as TroupeError where error.code == .notFound { throw denial(id) }
        if let receipt = history.forgotten {
            guard let owner = PersonaID(rawValue: receipt.owner), readableOwners.contains(owner) else { throw denial(id) }
            return history
        }
        guard let owner = history.versions.last?.owner, readableOwners.contains(owner) else { throw denial(id) }
        return history
    }

    /// The memories that best answer `query` among this persona's own and its shared slices';
    /// recalls of personas that arrive together are scored as one batch.
    public func recall(_ query: String, slices: [SliceKind]? = nil, limit: Int? = nil, tag: String? = nil) async throws -> [RecallHit] {
        try await coordinator.recall(RecallRequest(
            query: query, owners: readableOwners, slices: slices, limit: limit ?? coordinator.defaultLimit, tag: tag))
    }

    /// Recalls for several queries at once, as one batch (embedded together, each slice scored
    /// once for all of them). One answer per query, in order.
    public func recall(queries: [String], slices: [SliceKind]? = nil, limit: Int? = nil) async throws -> [[RecallHit]] {
        try await coordinator.recall(batch: queries.map {
            RecallRequest(query: $0, owners: readableOwners, slices: slices, limit: limit ?? coordinator.defaultLimit)
        })
    }

    /// Adds a note to working memory (the current conversation, scratch), live for the
    /// persona's working TTL and refreshed whenever it is read.
    public func note(_ text: String, importance: Double = 0.5, tags: [String] = []) async throws -> MemoryRecord {
        try await remember(text, in: .working, importance: importance, tags: tags)
    }

    /// The live working memory, newest first: the persona's capacity of items used last
    /// (written or refreshed). From Redis when it serves, else SQLite. Reading refreshes it. Expired items are not here: they stay in
    /// SQLite (`memory export`, `memory history`), archived, not dropped.
    public func workingMemory() async throws -> [MemoryRecord] {
        let limit = definition.memory.workingCapacity
        if let hot = await hot { return try await hot.working(name, limit: limit) }
        let now = clock.now()
        let live = try await HotTier.liveWorking(name, limit: limit, in: store, now: now)
        return try await HotTier.refreshing(live, in: store, ttl: definition.memory.workingTTL, now: now).records
    }

    /// The persona's latest episodes, newest first: the first day's from Redis when it serves,
    /// older ones from SQLite.
    public func recentEpisodes(limit: Int = 20) async throws -> [MemoryRecord] {
        if let hot = await hot { return try await hot.recentEpisodes(name, limit: limit) }
        return try await store.query(MemoryQuery(owners: [name], slices: [.episodic], order: .newestFirst, limit: limit))
    }

    // MARK: Shared slices

    /// Writes a new memory to the shared slice `slice`, of which this persona must be a member.
    public func share(_ content: String, in slice: PersonaID, importance: Double = 0.5, tags: [String] = []) async throws
        -> SharedWriteOutcome
    {
        let text = try Self.validated(content, importance: importance)
        let shared = try coordinator.slice(slice, for: name)
        return try await coordinator.write(SharedWrite(
            id: nil, owner: slice, slice: shared.kind, writer: name, baseVersion: 0,
            change: MemoryChange(content: text, importance: importance, tags: tags), policy: shared.policy,
            vector: try await writes.embed(text)))
    }

    // MARK: Checks

    /// The record `id`, if it is this persona's own or in one of its shared slices.
    private func readable(_ id: String) async throws -> MemoryRecord {
        guard let record = try await store.get(id), readableOwners.contains(record.owner) else { throw denial(id) }
        return record
    }

    /// The one answer for a record this persona cannot reach, whether it exists or not: a
    /// persona learns nothing of other personas' memory from the difference.
    private func denial(_ id: String) -> TroupeError {
        TroupeError(
            .denied,
            "\(name) may not touch this record: there is none with this id among \(name)'s own memories and the shared slices \(name) belongs to",
            context: id)
    }

    static func validated(_ content: String, importance: Double) throws -> String {
        let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw TroupeError(.invalidInput, "a memory's content cannot be empty") }
        guard (0...1).contains(importance) else { throw TroupeError(.invalidInput, "importance must be between 0 and 1, not \(importance)") }
        return text
    }
}
