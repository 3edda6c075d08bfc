import Foundation
import TroupeCore
import TroupeStore

/// The MCP memory server's knowledge graph in this home (``KnowledgeGraphRecords``): read,
/// written and forgotten through the one write path, one record per entity, observation and
/// relation, so writers in several processes never overwrite each other's graph.
extension Runtime {
    /// The current knowledge-graph records of `owner`.
    public func knowledgeGraphRecords(of owner: PersonaID) async throws -> [MemoryRecord] {
        var records: [MemoryRecord] = []
        for tag in KnowledgeGraphRecords.tags {
            var query = MemoryQuery(slices: [.semantic])
            query.owners = [owner]
            query.tag = tag
            query.order = .canonical
            query.limit = 5000
            while true {
                let page = try await store.query(query)
                records += page
                guard page.count == query.limit, let last = page.last else { break }
                query.after = last
            }
        }
        return records
    }

    /// Writes knowledge-graph records (embedded, committed, then written through) as `writer`.
    @discardableResult
    public func writeKnowledgeGraph(_ records: [MemoryRecord], writer: String) async throws -> UpsertSummary {
        guard !records.isEmpty else { return UpsertSummary() }
        return try await writes.upsert(records, writer: writer)
    }

    /// Forgets knowledge-graph records; one another writer forgot meanwhile is already gone.
    public func forgetKnowledgeGraph(_ records: [MemoryRecord], reason: String) async throws {
        for record in records {
            do {
                _ = try await writes.forget(record, reason: reason)
            } catch let error as TroupeError where error.code == .notFound {
                continue
            }
        }
    }
}
