import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// What a memory-graph tool answers: its text (what the MCP memory server puts in its text
/// content) and its structured content.
public struct MemoryGraphAnswer: Sendable {
    public var text: String
    public var structured: JSONValue
}

extension TroupeService {
    /// Runs one of the MCP memory server's tools on the knowledge graph of the `persona`
    /// argument, else of `defaultOwner`, else of the one persona the caller may act as.
    /// Arguments are checked against the tool's schema first (``ArgumentError`` naming the one
    /// at fault); a client reaches only personas it may act as and their shared slices.
    public func callMemoryGraph(
        _ tool: MemoryGraphTool, _ arguments: [String: JSONValue]?, owner defaultOwner: String?, _ context: RequestContext
    ) async throws -> MemoryGraphAnswer {
        let input = try Arguments(arguments, schema: tool.schema)
        let mine = runtime.personas.filter { context.principal.mayActAs($0.name.rawValue) }
        guard let name = input.string("persona") ?? defaultOwner ?? (mine.count == 1 ? mine[0].name.rawValue : nil) else {
            throw ArgumentError(field: "persona", "whose graph? give a persona or a shared slice (or start `troupe mcp --memory-graph NAME`)")
        }
        let owner = try self.owner(name, context)
        if let slice = runtime.sharedSlices.first(where: { $0.name == owner }), slice.kind != .semantic {
            throw TroupeError(.invalidInput, "'\(owner)' is a shared slice of \(slice.kind.rawValue) memories; a knowledge graph is semantic")
        }
        let records = try await runtime.knowledgeGraphRecords(of: owner)
        let graph = KnowledgeGraphRecords.graph(records)
        let now = runtime.clock.now()
        func record(_ item: KnowledgeGraphRecords.Item) -> MemoryRecord {
            KnowledgeGraphRecords.record(item, owner: owner, source: "mcp", at: now)
        }

        switch tool {
        case .createEntities:
            let known = Set(graph.entities.map(\.name))
            var seen = Set<String>()
            let fresh = try Self.entities(input.values["entities"]).filter { !known.contains($0.name) && seen.insert($0.name).inserted }
            try await runtime.writeKnowledgeGraph(fresh.flatMap { entity in
                [record(.entity(name: entity.name, type: entity.entityType))]
                    + Self.unique(entity.observations).enumerated().map { record(.observation(entity: entity.name, text: $0.element, position: $0.offset)) }
            }, writer: "mcp")
            let list = JSONValue.array(fresh.map(Self.json))
            return MemoryGraphAnswer(text: Self.pretty(list), structured: .object(["entities": list]))
        case .createRelations:
            let known = Set(graph.relations)
            var seen = Set<KnowledgeGraphRecords.Relation>()
            let fresh = try Self.relations(input.values["relations"]).filter { !known.contains($0) && seen.insert($0).inserted }
            try await runtime.writeKnowledgeGraph(fresh.map { record(.relation($0)) }, writer: "mcp")
            let list = JSONValue.array(fresh.map(Self.json))
            return MemoryGraphAnswer(text: Self.pretty(list), structured: .object(["relations": list]))
        case .addObservations:
            var results: [JSONValue] = []
            var batch: [MemoryRecord] = []
            for (entityName, contents) in try Self.pairs(input.values["observations"], key: "contents") {
                guard let entity = graph.entities.first(where: { $0.name == entityName }) else {
                    throw TroupeError(.notFound, "Entity with name \(entityName) not found")
                }
                let added = Self.unique(contents).filter { !entity.observations.contains($0) }
                batch += added.enumerated().map { record(.observation(entity: entityName, text: $0.element, position: entity.observations.count + $0.offset)) }
                results.append(.object(["entityName": .string(entityName), "addedObservations": .array(added.map(JSONValue.string))]))
            }
            try await runtime.writeKnowledgeGraph(batch, writer: "mcp")
            return MemoryGraphAnswer(text: Self.pretty(.array(results)), structured: .object(["results": .array(results)]))
        case .deleteEntities:
            let names = Set(input.strings("entityNames") ?? [])
            try await runtime.forgetKnowledgeGraph(records.filter { record in
                switch KnowledgeGraphRecords.item(record) {
                case .entity(let name, _)?: names.contains(name)
                case .observation(let entity, _, _)?: names.contains(entity)
                case .relation(let r)?: names.contains(r.from) || names.contains(r.to)
                case nil: false
                }
            }, reason: "delete_entities")
            return Self.done("Entities deleted successfully")
        case .deleteObservations:
            let deletions = try Self.pairs(input.values["deletions"], key: "observations")
            let ids = Set(deletions.flatMap { entity, texts in texts.map { KnowledgeGraphRecords.observationID(owner, entity, $0) } })
            try await runtime.forgetKnowledgeGraph(records.filter { ids.contains($0.id) }, reason: "delete_observations")
            return Self.done("Observations deleted successfully")
        case .deleteRelations:
            let ids = Set(try Self.relations(input.values["relations"]).map { KnowledgeGraphRecords.relationID(owner, $0) })
            try await runtime.forgetKnowledgeGraph(records.filter { ids.contains($0.id) }, reason: "delete_relations")
            return Self.done("Relations deleted successfully")
        case .readGraph:
            return try Self.page(graph, cursor: input.string("cursor"), limit: input.int("limit"))
        case .searchNodes:
            let query = try input.required("query").lowercased()
            let found = graph.entities.filter { entity in
                entity.name.lowercased().contains(query) || entity.entityType.lowercased().contains(query)
                    || entity.observations.contains { $0.lowercased().contains(query) }
            }
            return Self.subgraph(found, graph.relations)
        case .openNodes:
            let names = Set(input.strings("names") ?? [])
            return Self.subgraph(graph.entities.filter { names.contains($0.name) }, graph.relations)
        }
    }
}
