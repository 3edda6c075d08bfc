import Foundation
import TroupeCore
import TroupeStore

extension BeliefGraph {
    /// The edge that one version of a semantic record states, if it states one: the model's
    /// reading of a formed fact (`metadata.reading`), else the rules' (`metadata.attribute` and
    /// `value`), or a knowledge-graph relation or observation. Other records (a fact no reading
    /// labelled, episodes) state no edge.
    public static func edge(of record: MemoryRecord) -> Edge? {
        guard record.slice == .semantic else { return nil }
        let provenance = Provenance(record.metadata)
        var edge = Edge(
            kind: .fact, subject: "", attribute: "", value: "", owner: record.owner, recordID: record.id, version: record.version,
            validFrom: record.validFrom, validTo: record.validTo, saidBy: provenance?.saidBy, trust: Provenance.trust(of: record.metadata),
            method: provenance?.method.rawValue, conversation: provenance?.conversation, turn: provenance.map(\.turn),
            sentence: record.content, disputed: record.tags.contains(MemoryFormation.disputedTag))
        if provenance == nil { edge.saidBy = record.source }
        if let item = KnowledgeGraphRecords.item(record) {
            switch item {
            case .entity: return nil
            case .observation(let entity, let text, _):
                (edge.kind, edge.subject, edge.attribute, edge.value) = (.observation, entity, "observation", text)
            case .relation(let r):
                (edge.kind, edge.subject, edge.attribute, edge.value) = (.relation, r.from, r.relationType, r.to)
            }
            return edge
        }
        if let reading = ModelReading(record.metadata) {
            (edge.subject, edge.attribute, edge.value, edge.ends, edge.labelledByModel) = (reading.subject, reading.attribute, reading.value, reading.ends, true)
            return edge
        }
        guard case .object(let m)? = record.metadata, case .string(let subject)? = m["subject"], case .string(let attribute)? = m["attribute"],
            case .string(let value)? = m["value"], !subject.isEmpty, !attribute.isEmpty, !value.isEmpty
        else { return nil }
        (edge.subject, edge.attribute, edge.value) = (subject, attribute, value)
        return edge
    }

    /// The graph of `records` (every version wanted: current ones and the superseded ones of
    /// their histories), with `personas` named as personas.
    public static func derive(from records: [MemoryRecord], personas: Set<String>) -> BeliefGraph {
        var named: [(name: String, type: String?)] = []
        var edges: [Edge] = []
        edges.reserveCapacity(records.count)
        for record in records {
            if case .entity(let name, let type)? = KnowledgeGraphRecords.item(record), record.validTo == nil {
                named.append((name, type.isEmpty ? nil : type))
                continue
            }
            if let edge = edge(of: record) { edges.append(edge) }
        }
        return BeliefGraph(edges: edges, personas: personas, named: named)
    }
}

extension BeliefGraph {
    /// The belief graph of `owners` in `store` (every owner when `nil`): their semantic
    /// records, current versions and, with `history`, the superseded versions too (what an
    /// `--as-of` a past time needs), read page by page; built off the cooperative pool.
    public static func load(from store: any RecordStore, owners: [PersonaID]?, history: Bool, personas: Set<String>) async throws -> BeliefGraph {
        var query = MemoryQuery(slices: [.semantic])
        query.owners = owners
        query.order = .canonical
        query.limit = 5000
        var records: [MemoryRecord] = []
        while true {
            let page = try await store.query(query)
            records += page
            if history {
                for record in page where record.version > 1 {
                    records += try await store.history(record.id).versions.filter { $0.validTo != nil }
                }
            }
            guard page.count == query.limit, let last = page.last else { break }
            query.after = last
        }
        let all = records
        return try await offThePool("troupe.graph") { derive(from: all, personas: personas) }
    }
}

extension Runtime {
    /// The belief graph of `owners` (personas and shared slices; every owner when `nil`).
    public func beliefGraph(owners: [PersonaID]?, history: Bool) async throws -> BeliefGraph {
        try await BeliefGraph.load(from: store, owners: owners, history: history, personas: Set(personas.map(\.name.rawValue)))
    }
}
