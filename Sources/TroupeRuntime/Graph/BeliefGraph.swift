import Foundation
import TroupeCore

/// Who believes what, since when, learned from whom: entities (persons, personas, things) and
/// the relations between them that formed facts state (subject —attribute→ value), each with
/// the validity of the record version it comes from and that version's provenance.
///
/// Built once from records (``BeliefGraph/derive(from:personas:)``), then indexed by entity,
/// so that everything known about one entity (`troupe graph --about`) is two dictionary
/// look-ups and a walk over its own edges, whatever the size of the graph.
public struct BeliefGraph: Sendable {
    public enum EntityKind: String, Sendable, Hashable {
        /// The user, or someone a person's facts name as speaker.
        case person
        /// One of the home's personas.
        case persona
        case thing
    }

    /// One relation, as one version of one record states it.
    public struct Edge: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            /// A formed fact's reading: subject —attribute→ value.
            case fact
            /// A knowledge-graph relation (the MCP memory tools, an import).
            case relation
            /// A knowledge-graph observation of an entity; its value is text, not an entity.
            case observation
        }

        public var kind: Kind
        /// Entity names as the record has them; their keys (``BeliefGraph/key(_:)``) index them.
        public var subject: String
        public var attribute: String
        public var value: String
        /// The fact says the value no longer holds ("I sold the Golf").
        public var ends = false
        /// The persona or shared slice whose memory holds it: who believes it.
        public var owner: PersonaID
        public var recordID: String
        public var version: Int
        public var validFrom: Date
        /// When a newer version superseded it; `nil` while it is believed.
        public var validTo: Date?
        /// Learned from whom (`user`, a persona, an import's claimed source).
        public var saidBy: String?
        /// The provenance's trust rank (0…4).
        public var trust: Int
        /// How: `verbatim`, `rules`, `model`, `imported`…
        public var method: String?
        /// Where it was learned: the conversation and turn, when a turn formed it.
        public var conversation: String?
        public var turn: Int?
        /// Read by a model (the record's `reading`) rather than by rules.
        public var labelledByModel = false
        /// The record's text: the sentence as said.
        public var sentence: String
        public var disputed = false

        /// Whether this version was believed at `time` (now, when `nil`: current versions only).
        public func holds(at time: Date?) -> Bool {
            guard let time else { return validTo == nil }
            return validFrom <= time && (validTo.map { time < $0 } ?? true)
        }
    }

    public struct Entity: Sendable, Hashable {
        public var name: String
        public var kind: EntityKind
        /// The type a knowledge graph gave it (`person`, `organization`), if any.
        public var type: String?
    }

    public private(set) var edges: [Edge] = []
    private var entityByKey: [String: Entity] = [:]
    /// Edge indexes by the key of their subject, and of their value (observations excluded).
    private var bySubject: [String: [Int32]] = [:]
    private var byValue: [String: [Int32]] = [:]
    private let personas: Set<String>

    /// A graph of `edges`; `personas` are the names that are personas, `named` the entities a
    /// knowledge graph names (with their types), edges or not.
    public init(edges: [Edge], personas: Set<String>, named: [(name: String, type: String?)] = []) {
        var types: [String: String] = [:]
        for entity in named { types[Self.key(entity.name)] = entity.type }
        self.personas = Set(personas.map(Self.key))
        self.edges = edges
        bySubject.reserveCapacity(edges.count / 4)
        for (i, edge) in edges.enumerated() {
            let subject = Self.key(edge.subject)
            bySubject[subject, default: []].append(Int32(i))
            note(edge.subject, key: subject, type: types[subject], personOrUser: edge.saidBy.map(Self.key) == subject)
            guard edge.kind != .observation else { continue }
            let value = Self.key(edge.value)
            byValue[value, default: []].append(Int32(i))
            note(edge.value, key: value, type: types[value], personOrUser: false)
        }
        for entity in named where entityByKey[Self.key(entity.name)] == nil {
            let key = Self.key(entity.name)
            entityByKey[key] = Entity(name: entity.name, kind: kind(of: key, type: entity.type, person: false), type: entity.type)
        }
    }

    private mutating func note(_ name: String, key: String, type: String?, personOrUser: Bool) {
        if var known = entityByKey[key] {
            if known.kind == .thing, personOrUser { known.kind = .person; entityByKey[key] = known }
            return
        }
        entityByKey[key] = Entity(name: name, kind: kind(of: key, type: type, person: personOrUser), type: type)
    }

    private func kind(of key: String, type: String?, person: Bool) -> EntityKind {
        if personas.contains(key) { return .persona }
        if person || key == "user" || type?.lowercased() == "person" { return .person }
        return .thing
    }

    /// How names are matched: case and runs of white space do not matter.
    public static func key(_ name: String) -> String {
        name.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public var entityCount: Int { entityByKey.count }

    public func entity(_ name: String) -> Entity? { entityByKey[Self.key(name)] }

    /// Every entity, by name.
    public var entities: [Entity] { entityByKey.values.sorted { $0.name < $1.name } }

    /// The edges that name `entity` as subject or value and held at `time` (the current ones
    /// when `nil`), oldest first.
    public func about(_ entity: String, at time: Date? = nil) -> [Edge] {
        let key = Self.key(entity)
        var indexes = bySubject[key] ?? []
        indexes += byValue[key] ?? []
        var seen = Set<Int32>()
        return indexes.filter { seen.insert($0).inserted }.map { edges[Int($0)] }.filter { $0.holds(at: time) }
            .sorted { ($0.validFrom, $0.recordID, $0.version) < ($1.validFrom, $1.recordID, $1.version) }
    }

    /// The edges that held at `time` (current ones when `nil`), in the order they were derived.
    public func edges(at time: Date?) -> [Edge] { edges.filter { $0.holds(at: time) } }

    /// The entities one hop from `entity` at `time`: what a recall may expand a question about
    /// it to (multi-hop questions).
    public func neighbours(of entity: String, at time: Date? = nil) -> [String] {
        let key = Self.key(entity)
        var out: [String] = []
        var seen: Set<String> = [key]
        for edge in about(entity, at: time) where edge.kind != .observation {
            let other = Self.key(edge.subject) == key ? edge.value : edge.subject
            if seen.insert(Self.key(other)).inserted { out.append(other) }
        }
        return out
    }
}
