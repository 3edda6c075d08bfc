import Foundation
import TroupeCore

/// The storage steps a shared write is made of, inside one transaction of a store.
package protocol SharedWriteSteps {
    /// The current version of a record, or `nil`.
    mutating func current(_ id: String) throws -> MemoryRecord?
    mutating func insert(_ record: MemoryRecord, vector: EmbeddedVector?) throws
    /// Moves `old` into the history and makes its successor current.
    mutating func supersede(_ old: MemoryRecord, with change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?) throws
        -> MemoryRecord
    /// The number the next audit line gets (the transaction holds the write lock).
    mutating func nextAuditNumber() throws -> Int64
    mutating func append(_ entry: AuditEntry) throws
    /// Keeps `lost`, a value written to a record of `owner` that never became current.
    mutating func keep(_ lost: LostValue, owner: PersonaID) throws
    /// Links two records both ways.
    mutating func link(_ a: String, _ b: String, audit: Int64, at time: Date) throws
}

/// Applies one shared write with its slice's policy: the one algorithm both stores run, so that
/// they cannot disagree on what a policy means.
package enum SharedWriteResolver {
    package static func apply(
        _ write: SharedWrite, priorities: [String: Int], at time: Date, steps: inout some SharedWriteSteps
    ) throws -> SharedWriteOutcome {
        guard let id = write.id, let current = try steps.current(id) else {
            guard write.baseVersion == 0 else {
                throw TroupeError(.notFound, "no record with this id", context: write.id)
            }
            var record = try newRecord(write, id: write.id ?? "m-" + UUID().uuidString.lowercased(), at: time)
            try steps.insert(record, vector: write.vector)
            record.modelID = write.vector?.model
            return SharedWriteOutcome(kind: .applied, current: record)
        }
        guard current.owner == write.owner, current.slice == write.slice else {
            throw TroupeError(
                .invalidInput, "this id belongs to \(current.owner)/\(current.slice.rawValue), not \(write.owner)/\(write.slice.rawValue)",
                context: id)
        }
        guard write.baseVersion <= current.version, write.baseVersion >= 0 else {
            throw TroupeError(.invalidInput, "the write is based on version \(write.baseVersion), but the record is at version \(current.version)", context: id)
        }
        if write.baseVersion == current.version {
            let next = try steps.supersede(current, with: write.change, writer: write.writer.rawValue, at: time, vector: write.vector)
            return SharedWriteOutcome(kind: .applied, current: next)
        }

        // Stale: the policy decides, and the decision is audited.
        let decision = write.policy.decide(
            writerPriority: priorities[write.writer.rawValue] ?? 0, currentPriority: priorities[current.source] ?? 0)
        let number = try steps.nextAuditNumber()
        var entry = AuditEntry(
            seq: number, at: time, slice: write.owner, record: id, writer: write.writer.rawValue, baseVersion: write.baseVersion,
            currentVersion: current.version, policy: write.policy, outcome: decision)
        var outcome = SharedWriteOutcome(kind: .init(decision), current: current, audit: number)
        switch decision {
        case .overwrite:
            let next = try steps.supersede(current, with: write.change, writer: write.writer.rawValue, at: time, vector: write.vector)
            entry.kept = [AuditEntry.reference(next)]
            entry.superseded = [AuditEntry.reference(current)]
            outcome.current = next
        case .keepBoth:
            // The new value, over the current one's other fields, becomes a record of its own.
            var sibling = try newRecord(write, id: "\(id)~\(number)", at: time, over: current)
            try steps.insert(sibling, vector: write.vector)
            sibling.modelID = write.vector?.model
            try steps.link(id, sibling.id, audit: number, at: time)
            entry.kept = [AuditEntry.reference(current), AuditEntry.reference(sibling)]
            outcome.sibling = sibling
        case .keepCurrent, .reject:
            let value = current.superseded(by: write.change, writer: write.writer.rawValue, at: time)
            try steps.keep(LostValue(
                audit: number, id: id, writer: write.writer.rawValue, baseVersion: write.baseVersion, outcome: decision,
                content: value.content, importance: value.importance, tags: value.tags, metadata: value.metadata, writtenAt: time), owner: current.owner)
            entry.kept = [AuditEntry.reference(current)]
            entry.superseded = ["\(id)#\(number)"]
        }
        try steps.append(entry)
        return outcome
    }

    /// A first version holding the write's value; fields the write leaves out come from `base`
    /// (for a linked copy) or the defaults.
    private static func newRecord(_ write: SharedWrite, id: String, at time: Date, over base: MemoryRecord? = nil) throws -> MemoryRecord {
        guard let content = write.change.content ?? base?.content,
            !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw TroupeError(.invalidInput, "a new memory needs its content", context: id)
        }
        return MemoryRecord(
            id: id, owner: write.owner, slice: write.slice, content: content,
            importance: write.change.importance ?? base?.importance ?? 0.5, tags: write.change.tags ?? base?.tags ?? [],
            source: write.writer.rawValue, createdAt: time, expiresAt: write.change.expiresAt ?? base?.expiresAt,
            metadata: write.change.metadata ?? base?.metadata)
    }
}
