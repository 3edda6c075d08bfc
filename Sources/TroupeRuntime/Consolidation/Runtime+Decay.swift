import Foundation
import TroupeCore
import TroupeStore

/// What one decay pass did for a persona.
public struct DecayReport: Sendable {
    /// Episodes moved to the archive: past the persona's retention and never recalled.
    public var archived: [String] = []
    /// Memories whose importance was learned from how often they were recalled.
    public var reweighed: [String] = []
    /// Episodes past the retention kept because they were recalled.
    public var keptForUse = 0
}

extension Runtime {
    /// Decays `persona`'s memory: its episodes older than its retention (`memory.episodic.
    /// retention`) that were never recalled move to the archive, a new version tagged
    /// ``MemoryRecord/archivedTag`` that recall leaves out unless asked (`--archive`), still
    /// exported, never deleted; conversation summaries stay. The importance of its episodes and
    /// facts follows their use: `importance_base` (what was written) plus 0.1 for each doubling of
    /// their recalls, at most 1, rewritten when it moves by 0.05 or more.
    public func decay(_ persona: PersonaID) async throws -> DecayReport {
        let retention = try definition(persona.rawValue).memory.episodicRetention
        let now = clock.now()
        var query = MemoryQuery(slices: [.episodic, .semantic])
        query.owners = [persona]
        query.order = .canonical
        query.limit = 5000
        var report = DecayReport()
        var batch: [MemoryRecord] = []
        while true {
            let page = try await store.query(query)
            for record in page where !record.isArchived {
                var next = record
                if record.slice == .episodic, !record.tags.contains(EpisodeSummary.tag), let retention,
                    now.timeIntervalSince(record.createdAt) > retention
                {
                    if record.accessCount == 0 {
                        next.tags.append(MemoryRecord.archivedTag)
                        next.metadata = Self.with(record.metadata, "archived_at", .string(Timestamp.format(now)))
                        report.archived.append(record.id)
                        batch.append(next)
                        continue
                    }
                    report.keptForUse += 1
                }
                if let learned = Self.learnedImportance(record) {
                    next.importance = learned.importance
                    next.metadata = Self.with(next.metadata, "importance_base", .number(learned.base))
                    report.reweighed.append(record.id)
                    batch.append(next)
                }
            }
            guard page.count == query.limit, let last = page.last else { break }
            query.after = last
        }
        // One new version each, its text untouched (so it keeps its vector); a record another
        // writer changed meanwhile is left for the next pass.
        var written = Set<String>()
        for record in batch {
            let change = MemoryChange(importance: record.importance, tags: record.tags, metadata: .some(record.metadata))
            do {
                _ = try await writes.update(record.id, basedOn: record.version, change: change, writer: "decay")
                written.insert(record.id)
            } catch let error as TroupeError where error.code == .conflict || error.code == .notFound {
                continue
            }
        }
        report.archived = report.archived.filter(written.contains)
        report.reweighed = report.reweighed.filter(written.contains)
        return report
    }

    /// The importance a record's recalls earn it, when it differs enough from the one it has.
    static func learnedImportance(_ record: MemoryRecord) -> (importance: Double, base: Double)? {
        guard record.accessCount > 0 else { return nil }
        var base = record.importance
        if case .object(let m)? = record.metadata, case .number(let written)? = m["importance_base"] { base = written }
        let learned = min(1, base + 0.1 * log2(1 + Double(record.accessCount)))
        let rounded = (learned * 100).rounded() / 100
        return abs(rounded - record.importance) >= 0.05 ? (rounded, base) : nil
    }

    static func with(_ metadata: JSONValue?, _ key: String, _ value: JSONValue) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        if case .object(let m)? = metadata { fields = m }
        fields[key] = value
        return .object(fields)
    }
}
