import Foundation
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeRuntime
import TroupeStore

/// What `memory stats` shows: the store's counts, and what the home adds to them.
public struct MemoryStats: Sendable {
    public var store: StoreStats
    /// The embedding model of recall's vectors, if one is configured.
    public var vectorModel: String?
    /// Current records without a vector of that model (`nil` without one).
    public var withoutVector: Int?
    /// The hot tier's figures, when it is up.
    public var hotTier: HotTier.Stats?
    /// Where the store is (a file's path, or the server's location).
    public var storePath: String

    /// `memory stats --json`: the store's counts, and the hot tier's when it is up.
    public var json: JSONValue {
        guard let hotTier, case .object(var object) = JSONView.stats(store) else { return JSONView.stats(store) }
        object["hot_tier"] = HotTierText.json(hotTier)
        return .object(object)
    }
}

extension TroupeService {
    /// A memory's current version (`memory show`): as `persona` (its own memories and its
    /// shared slices'), or without one as the operator, whoever owns it.
    public func record(id: String, persona: String?, _ context: RequestContext) async throws -> MemoryRecord {
        if let persona { return try await actor(persona, context).record(id) }
        try context.checkWholeHome("read a memory")
        return try await runtime.record(id)
    }

    /// A persona's live working memory, newest first (`memory working`; reading refreshes it).
    public func workingMemory(persona: String, _ context: RequestContext) async throws -> [MemoryRecord] {
        try await actor(persona, context).workingMemory()
    }

    /// Counts per owner and slice, vectors and the hot tier (`memory stats`). Only for the
    /// operator: beside the counts it describes the store as a whole (its file and size,
    /// superseded versions, forgotten records, the hot tier), none of which splits by persona.
    public func stats(_ context: RequestContext) async throws -> MemoryStats {
        try context.checkWholeHome("read the store's statistics")
        let store = try await runtime.stats()
        let withoutVector = try await runtime.recordsWithoutVector()
        var hotTier: HotTier.Stats?
        if let tier = await runtime.hotTier() { hotTier = await tier.stats() }
        return MemoryStats(
            store: store, vectorModel: runtime.embedderChoice.modelID, withoutVector: withoutVector, hotTier: hotTier,
            storePath: runtime.storePath)
    }

    /// How stale writes to shared slices were resolved, newest first (`audit`): of `slice`,
    /// of `record`, at most `limit` lines.
    ///
    /// The operator sees every line. A client sees only the lines of shared slices that one of
    /// its personas belongs to (a line names writers and record ids, never content): naming
    /// another slice, or one that does not exist, is denied alike.
    public func audit(slice: String? = nil, record: String? = nil, limit: Int = 50, _ context: RequestContext) async throws -> [AuditEntry] {
        let range = RuntimeConfig.limitRange
        guard range.contains(limit) else {
            throw TroupeError(.invalidInput, "limit must be between \(range.lowerBound) and \(range.upperBound), not \(limit)")
        }
        guard context.principal.role == .client else {
            var query = AuditQuery(record: record, limit: limit)
            if let slice { query.slice = try runtime.sharedSlice(slice).name }
            return try await runtime.audit(query)
        }
        let visible = visibleSharedSlices(context)
        let slices: [PersonaID]
        if let slice {
            guard let id = visible.first(where: { $0.rawValue == slice }) else {
                throw TroupeError(.denied, "\(context.principal.id) may not read the audit of shared slice '\(slice)'")
            }
            slices = [id]
        } else {
            slices = visible
        }
        var entries: [AuditEntry] = []
        for slice in slices { entries += try await runtime.audit(AuditQuery(slice: slice, record: record, limit: limit)) }
        return Array(entries.sorted { $0.seq > $1.seq }.prefix(limit))
    }

    /// The shared slices that one of the client's personas belongs to, in name order; every
    /// one for the operator.
    func visibleSharedSlices(_ context: RequestContext) -> [PersonaID] {
        sharedSlices(context).map(\.name)
    }
}
