import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeRuntime
import TroupeStore

/// Where a new memory goes: one of the persona's private slices, or a shared slice it belongs to.
public enum MemoryTarget: Sendable, Hashable {
    case slice(SliceKind)
    case shared(String)
}

extension TroupeService {
    /// The memories of `persona` that best answer `query` (its own slices and its shared
    /// slices'), each with every score component (`--why`); with `archive`, from its archive
    /// (episodes past their retention never recalled) instead.
    public func recall(
        persona: String, query: String, slices: [SliceKind]? = nil, limit: Int? = nil, archive: Bool = false, _ context: RequestContext
    ) async throws -> [RecallHit] {
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TroupeError(.invalidInput, "the query is empty")
        }
        let range = RuntimeConfig.limitRange
        if let limit, !range.contains(limit) {
            throw TroupeError(.invalidInput, "limit must be between \(range.lowerBound) and \(range.upperBound), not \(limit)")
        }
        return try await actor(persona, context).recall(query, slices: slices, limit: limit, tag: archive ? MemoryRecord.archivedTag : nil)
    }

    /// Adds a memory as `persona` (`memory add`); for a shared slice, the stored current record.
    public func remember(
        persona: String, content: String, in target: MemoryTarget, importance: Double = 0.5, tags: [String] = [],
        _ context: RequestContext
    ) async throws -> MemoryRecord {
        let actor = try await actor(persona, context)
        switch target {
        case .slice(let slice):
            return try await actor.remember(content, in: slice, importance: importance, tags: tags)
        case .shared(let name):
            guard let id = PersonaID(rawValue: name) else { throw TroupeError(.invalidInput, "'\(name)' is not a shared slice name") }
            return try await actor.share(content, in: id, importance: importance, tags: tags).current
        }
    }

    /// Writes a new version of a memory as `persona`, based on version `base` (`memory update`).
    public func update(
        persona: String, id: String, basedOn base: Int, change: MemoryChange, _ context: RequestContext
    ) async throws -> SharedWriteOutcome {
        guard base >= 1 else { throw TroupeError(.invalidInput, "the base version must be 1 or more, not \(base)") }
        guard change.content != nil || change.importance != nil || change.tags != nil else {
            throw TroupeError(.invalidInput, "nothing to change: give a content, an importance or tags")
        }
        return try await actor(persona, context).update(id, basedOn: base, change: change)
    }

    /// Forgets a memory for good (`memory forget`): as `persona`, or without one as the
    /// operator on the whole home.
    public func forget(id: String, persona: String?, reason: String? = nil, _ context: RequestContext) async throws -> ForgetReceipt {
        if let persona { return try await actor(persona, context).forget(id, reason: reason) }
        try context.checkWholeHome("forget a memory")
        return try await runtime.forget(id, reason: reason)
    }

    /// Every version of a memory, and values that lost conflicts (`memory history`): as
    /// `persona`, or without one as the operator.
    public func history(id: String, persona: String?, _ context: RequestContext) async throws -> RecordHistory {
        if let persona { return try await actor(persona, context).history(id) }
        try context.checkWholeHome("read a memory's history")
        return try await runtime.history(id)
    }

    /// The current records of one of `persona`'s slices, newest first, at most `limit` (what a
    /// persona's slice resource shows).
    public func records(persona: String, slice: SliceKind, limit: Int = 200, _ context: RequestContext) async throws -> [MemoryRecord] {
        let actor = try await actor(persona, context)
        return try await runtime.store.query(MemoryQuery(owners: [actor.name], slices: [slice], order: .newestFirst, limit: limit))
    }

    /// The shared slices the caller may read, in name order: those one of a client's personas
    /// belongs to; every one for an admin or an operator.
    public func sharedSlices(_ context: RequestContext) -> [RuntimeConfig.SharedSlice] {
        runtime.sharedSlices.filter { slice in slice.members.contains { context.principal.mayActAs($0.rawValue) } }
    }

    /// Shared slice `name`, if the caller may read it. A client naming one that none of its
    /// personas belongs to is denied, whether it exists or not.
    public func sharedSlice(_ name: String, _ context: RequestContext) throws -> RuntimeConfig.SharedSlice {
        guard context.principal.role == .client else { return try runtime.sharedSlice(name) }
        guard let slice = sharedSlices(context).first(where: { $0.name.rawValue == name }) else {
            throw TroupeError(.denied, "\(context.principal.id) may not read shared slice '\(name)'")
        }
        return slice
    }

    /// The current records of shared slice `name`, newest first, at most `limit` (what a shared
    /// slice's resource shows).
    public func sharedRecords(slice name: String, limit: Int = 200, _ context: RequestContext) async throws -> [MemoryRecord] {
        let slice = try sharedSlice(name, context)
        return try await runtime.store.query(MemoryQuery(owners: [slice.name], order: .newestFirst, limit: limit))
    }
}
