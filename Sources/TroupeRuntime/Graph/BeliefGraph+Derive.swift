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
    /// The belief graph of `owners` (personas and shared slices; every owner when `nil`), with
    /// the superseded versions too for `history`. A long-lived runtime builds it once and keeps
    /// it while the store's change feed stands still (every commit of any process moves it).
    public func beliefGraph(owners: [PersonaID]?, history: Bool) async throws -> BeliefGraph {
        let personas = Set(self.personas.map(\.name.rawValue))
        let key = BeliefGraphCache.Key(owners: owners, history: history, personas: personas)
        // Read before the records: a change committed while they are read moves it past this.
        let cursor = try await store.changeCursor()
        if let graph = graphs.graph(for: key, at: cursor) { return graph }
        let graph = try await BeliefGraph.load(from: store, owners: owners, history: history, personas: personas)
        graphs.keep(graph, for: key, at: cursor)
        return graph
    }
}

/// The belief graphs a runtime built, each with the change-feed cursor it was read at.
final class BeliefGraphCache: Sendable {
    struct Key: Hashable {
        var owners: [PersonaID]?
        var history: Bool
        var personas: Set<String>
    }

    /// A few graphs (a persona's, the whole home's, with history or not); the oldest go first.
    static let capacity = 4
    private let graphs = LockedBox<[(key: Key, cursor: Int64, graph: BeliefGraph)]>([])

    func graph(for key: Key, at cursor: Int64) -> BeliefGraph? {
        graphs.withLock { list in list.first { $0.key == key && $0.cursor == cursor }?.graph }
    }

    func keep(_ graph: BeliefGraph, for key: Key, at cursor: Int64) {
        graphs.withLock { list in
            list.removeAll { $0.key == key }
            list.append((key, cursor, graph))
            if list.count > Self.capacity { list.removeFirst(list.count - Self.capacity) }
        }
    }
}
