import Foundation
import TroupeCore
import TroupeStore

/// The MCP memory server's argument and result shapes, read and written.
extension TroupeService {
    typealias Entity = KnowledgeGraphRecords.Entity
    typealias Relation = KnowledgeGraphRecords.Relation

    /// `entities` (the schema checked each has a name, an entityType and observations, all text).
    static func entities(_ value: JSONValue?) throws -> [Entity] {
        guard case .array(let list)? = value else { return [] }
        return try list.enumerated().map { index, item in
            guard let name = item.text("name"), !name.isEmpty else { throw ArgumentError(field: "entities[\(index)].name", "must not be empty") }
            return Entity(name: name, entityType: item.text("entityType") ?? "", observations: item.texts("observations"))
        }
    }

    static func relations(_ value: JSONValue?) throws -> [Relation] {
        guard case .array(let list)? = value else { return [] }
        return try list.enumerated().map { index, item in
            for key in ["from", "to", "relationType"] where (item.text(key) ?? "").isEmpty {
                throw ArgumentError(field: "relations[\(index)].\(key)", "must not be empty")
            }
            return Relation(from: item.text("from")!, to: item.text("to")!, relationType: item.text("relationType")!)
        }
    }

    /// `[{"entityName", key: [text]}]` as pairs, in order.
    static func pairs(_ value: JSONValue?, key: String) throws -> [(String, [String])] {
        guard case .array(let list)? = value else { return [] }
        return list.map { ($0.text("entityName") ?? "", $0.texts(key)) }
    }

    static func unique(_ texts: [String]) -> [String] {
        var seen = Set<String>()
        return texts.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    static func json(_ e: Entity) -> JSONValue {
        .object(["name": .string(e.name), "entityType": .string(e.entityType), "observations": .array(e.observations.map(JSONValue.string))])
    }

    static func json(_ r: Relation) -> JSONValue {
        .object(["from": .string(r.from), "to": .string(r.to), "relationType": .string(r.relationType)])
    }

    static func pretty(_ value: JSONValue) -> String { value.canonicalText }

    static func done(_ message: String) -> MemoryGraphAnswer {
        MemoryGraphAnswer(text: message, structured: .object(["success": .bool(true), "message": .string(message)]))
    }

    /// `entities` and the relations with at least one end among them (search_nodes, open_nodes).
    static func subgraph(_ entities: [Entity], _ relations: [Relation]) -> MemoryGraphAnswer {
        let names = Set(entities.map(\.name))
        return answer(entities, relations.filter { names.contains($0.from) || names.contains($0.to) }, next: nil)
    }

    static func answer(_ entities: [Entity], _ relations: [Relation], next: String?) -> MemoryGraphAnswer {
        var object: [String: JSONValue] = ["entities": .array(entities.map(json)), "relations": .array(relations.map(json))]
        if let next { object["nextCursor"] = .string(next) }
        return MemoryGraphAnswer(text: pretty(.object(object)), structured: .object(object))
    }

    /// read_graph: the whole graph, or with `limit` a page of the entities then the relations
    /// after `cursor` (an offset into that order: entities by creation, then relations). A
    /// writer deleting meanwhile can shift a page by what it deleted; nothing is ever skipped
    /// by a writer that only adds, since additions come last.
    static func page(_ graph: (entities: [Entity], relations: [Relation]), cursor: String?, limit: Int?) throws -> MemoryGraphAnswer {
        var start = 0
        if let cursor {
            guard cursor.hasPrefix("o:"), let offset = Int(cursor.dropFirst(2)), offset >= 0 else {
                throw ArgumentError(field: "cursor", "is not a cursor read_graph gave ('\(cursor.prefix(40))')")
            }
            start = offset
        }
        guard let limit else {
            let entities = Array(graph.entities.dropFirst(start))
            let relations = Array(graph.relations.dropFirst(max(0, start - graph.entities.count)))
            return answer(entities, relations, next: nil)
        }
        let total = graph.entities.count + graph.relations.count
        let end = min(total, start + limit)
        let entities = start < graph.entities.count ? Array(graph.entities[start..<min(end, graph.entities.count)]) : []
        let relationStart = max(0, start - graph.entities.count), relationEnd = max(0, end - graph.entities.count)
        let relations = relationStart < relationEnd ? Array(graph.relations[relationStart..<relationEnd]) : []
        return answer(entities, relations, next: end < total ? "o:\(end)" : nil)
    }
}

extension JSONValue {
    fileprivate func text(_ key: String) -> String? {
        guard case .object(let members) = self, case .string(let value)? = members[key] else { return nil }
        return value
    }

    fileprivate func texts(_ key: String) -> [String] {
        guard case .object(let members) = self, case .array(let list)? = members[key] else { return [] }
        return list.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }
}
