import Foundation
import TroupeCore

/// The MCP memory server's knowledge graph (entities with observations, and relations) kept as
/// a persona's or a shared slice's semantic records: one record per entity, per observation and
/// per relation, each with an id that follows from what it is. Writing the same thing twice
/// writes one record, and two writers adding different things at once both land: no
/// read-modify-write of a whole graph, as the server's own file does.
public enum KnowledgeGraphRecords {
    public static let entityTag = "kg-entity"
    public static let observationTag = "kg-observation"
    public static let relationTag = "kg-relation"
    public static let tags = [entityTag, observationTag, relationTag]

    public struct Entity: Sendable, Hashable {
        public var name: String
        public var entityType: String
        public var observations: [String]

        public init(name: String, entityType: String, observations: [String]) {
            self.name = name
            self.entityType = entityType
            self.observations = observations
        }
    }

    public struct Relation: Sendable, Hashable {
        public var from: String
        public var to: String
        public var relationType: String

        public init(from: String, to: String, relationType: String) {
            self.from = from
            self.to = to
            self.relationType = relationType
        }
    }

    /// What one record of the graph is.
    public enum Item: Sendable, Hashable {
        case entity(name: String, type: String)
        case observation(entity: String, text: String, position: Int)
        case relation(Relation)
    }

    public static func entityID(_ owner: PersonaID, _ name: String) -> String { id(owner, ["entity", name]) }
    public static func observationID(_ owner: PersonaID, _ entity: String, _ text: String) -> String { id(owner, ["observation", entity, text]) }
    public static func relationID(_ owner: PersonaID, _ r: Relation) -> String { id(owner, ["relation", r.from, r.relationType, r.to]) }

    static func id(_ owner: PersonaID, _ key: [String]) -> String {
        var bytes = Array(owner.rawValue.utf8)
        for part in key { bytes += [0] + Array(part.utf8) }
        return "kg-" + SHA256.hex(of: bytes).prefix(24)
    }

    /// The record of `item` in `owner`, written by `source` at `time`; `extra` joins its
    /// metadata (an import's provenance and source fields).
    public static func record(
        _ item: Item, owner: PersonaID, source: String, at time: Date, extra: [String: JSONValue] = [:]
    ) -> MemoryRecord {
        var fields = extra
        let id: String, content: String, tag: String
        switch item {
        case .entity(let name, let type):
            id = entityID(owner, name)
            content = type.isEmpty ? name : "\(name) (\(type))"
            tag = entityTag
            fields["kg"] = .object(["kind": .string("entity"), "name": .string(name), "type": .string(type)])
        case .observation(let entity, let text, let position):
            id = observationID(owner, entity, text)
            content = "\(entity): \(text)"
            tag = observationTag
            fields["kg"] = .object([
                "kind": .string("observation"), "entity": .string(entity), "text": .string(text), "position": .number(Double(position)),
            ])
        case .relation(let r):
            id = relationID(owner, r)
            content = "\(r.from) \(r.relationType) \(r.to)"
            tag = relationTag
            fields["kg"] = .object(["kind": .string("relation"), "from": .string(r.from), "to": .string(r.to), "type": .string(r.relationType)])
        }
        return MemoryRecord(
            id: id, owner: owner, slice: .semantic, content: content, tags: [tag], source: source, createdAt: time,
            metadata: .object(fields))
    }

    /// What `record` is in the graph, if it is part of one.
    public static func item(_ record: MemoryRecord) -> Item? {
        guard case .object(let m)? = record.metadata, case .object(let kg)? = m["kg"], case .string(let kind)? = kg["kind"] else { return nil }
        func text(_ key: String) -> String? {
            guard case .string(let value)? = kg[key] else { return nil }
            return value
        }
        switch kind {
        case "entity":
            guard let name = text("name") else { return nil }
            return .entity(name: name, type: text("type") ?? "")
        case "observation":
            guard let entity = text("entity"), let value = text("text") else { return nil }
            var position = 0
            if case .number(let n)? = kg["position"] { position = Int(n) }
            return .observation(entity: entity, text: value, position: position)
        case "relation":
            guard let from = text("from"), let to = text("to"), let type = text("type") else { return nil }
            return .relation(Relation(from: from, to: to, relationType: type))
        default: return nil
        }
    }

    /// The graph that `records` hold: entities in the order they were created, each with its
    /// observations in the order they were added; observations of an entity that is not
    /// there (deleted meanwhile) are left out, as the server's file would not hold them.
    public static func graph(_ records: [MemoryRecord]) -> (entities: [Entity], relations: [Relation]) {
        var entities: [(record: MemoryRecord, entity: Entity)] = []
        var observations: [String: [(MemoryRecord, Int, String)]] = [:]
        var relations: [(MemoryRecord, Relation)] = []
        for record in records where record.validTo == nil {
            switch item(record) {
            case .entity(let name, let type)?: entities.append((record, Entity(name: name, entityType: type, observations: [])))
            case .observation(let entity, let text, let position)?: observations[entity, default: []].append((record, position, text))
            case .relation(let relation)?: relations.append((record, relation))
            case nil: continue
            }
        }
        func earlier(_ a: MemoryRecord, _ b: MemoryRecord) -> Bool { (a.createdAt, a.id) < (b.createdAt, b.id) }
        entities.sort { earlier($0.record, $1.record) }
        relations.sort { earlier($0.0, $1.0) }
        let list = entities.map { entry in
            var entity = entry.entity
            entity.observations = (observations[entity.name] ?? [])
                .sorted { ($0.0.createdAt, $0.1, $0.0.id) < ($1.0.createdAt, $1.1, $1.0.id) }
                .map(\.2)
            return entity
        }
        return (list, relations.map(\.1))
    }
}
