import Foundation
import TroupeCore

extension InMemoryStore {
    /// Everything the store holds; a value, so a shared write can run on a copy and be dropped.
    struct State: SharedWriteSteps {
        var current: [String: MemoryRecord] = [:]
        var versions: [String: [MemoryRecord]] = [:]
        var forgotten: [String: ForgetReceipt] = [:]
        /// Vectors by record id: the model and the vector of the record's current version.
        var vectors: [String: (model: String, values: [Float])] = [:]
        /// Every write, in order: the change feed (kept whole; this store is for tests).
        var changeLog: [(id: String, removed: Bool)] = []
        var audit: [AuditEntry] = []
        var lost: [String: [LostValue]] = [:]
        var links: [String: [RecordLink]] = [:]
        /// Per `owner/slice`: bumped by every write that changes what recall ranks there.
        var sliceVersions: [String: Int64] = [:]
        /// The order of first writes, as SQLite's `seq`: the index breaks creation-time ties by it.
        var sequence: [String: Int64] = [:]
        var nextSequence: Int64 = 1

        mutating func bump(_ record: MemoryRecord) { sliceVersions["\(record.owner)/\(record.slice.rawValue)", default: 0] += 1 }

        func current(_ id: String) -> MemoryRecord? { current[id] }

        mutating func insert(_ record: MemoryRecord, vector: EmbeddedVector?) throws {
            guard current[record.id] == nil else {
                throw TroupeError(.duplicate, "a record with this id exists already", context: record.id)
            }
            var stored = record
            if let vector {
                vectors[record.id] = (vector.model, vector.values)
                stored.modelID = vector.model
            }
            current[record.id] = stored
            forgotten[record.id] = nil
            sequence[record.id] = nextSequence
            nextSequence += 1
            changeLog.append((record.id, false))
            bump(record)
        }

        mutating func supersede(_ old: MemoryRecord, with change: MemoryChange, writer: String, at time: Date, vector: EmbeddedVector?)
            -> MemoryRecord
        {
            var next = old.superseded(by: change, writer: writer, at: time)
            var retired = old
            retired.validTo = time
            versions[old.id, default: []].append(retired)
            if next.content != old.content { vectors[old.id] = nil }
            if let vector, change.content != nil {
                vectors[old.id] = (vector.model, vector.values)
                next.modelID = vector.model
            }
            current[old.id] = next
            changeLog.append((old.id, false))
            bump(next)
            return next
        }

        func nextAuditNumber() -> Int64 { Int64(audit.count + 1) }

        mutating func append(_ entry: AuditEntry) { audit.append(entry) }

        mutating func keep(_ value: LostValue, owner: PersonaID) { lost[value.id, default: []].append(value) }

        mutating func link(_ a: String, _ b: String, audit number: Int64, at time: Date) {
            links[a, default: []].append(RecordLink(other: b, audit: number, at: time))
            links[b, default: []].append(RecordLink(other: a, audit: number, at: time))
        }
    }
}
