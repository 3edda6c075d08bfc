import TroupeCore

/// The MCP memory server's tools (modelcontextprotocol/servers, src/memory), with its argument
/// and result shapes, over a persona's (or a shared slice's) knowledge graph in Troupe's store
/// (``TroupeService/callMemoryGraph(_:_:owner:_:)``), so a client of that server can be pointed
/// at `troupe mcp --memory-graph OWNER` unchanged.
///
/// Two additions, both optional: `persona` (whose graph, instead of the server's default) on
/// every tool, and `cursor` and `limit` on `read_graph` (pages; `nextCursor` in the answer).
public enum MemoryGraphTool: String, Sendable, CaseIterable {
    case createEntities = "create_entities"
    case createRelations = "create_relations"
    case addObservations = "add_observations"
    case deleteEntities = "delete_entities"
    case deleteObservations = "delete_observations"
    case deleteRelations = "delete_relations"
    case readGraph = "read_graph"
    case searchNodes = "search_nodes"
    case openNodes = "open_nodes"

    public var readsOnly: Bool { self == .readGraph || self == .searchNodes || self == .openNodes }
    public var destructive: Bool { self == .deleteEntities || self == .deleteObservations || self == .deleteRelations }

    public var summary: String {
        switch self {
        case .createEntities: "Create multiple new entities in the knowledge graph"
        case .createRelations: "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice"
        case .addObservations: "Add new observations to existing entities in the knowledge graph"
        case .deleteEntities: "Delete multiple entities and their associated relations from the knowledge graph"
        case .deleteObservations: "Delete specific observations from entities in the knowledge graph"
        case .deleteRelations: "Delete multiple relations from the knowledge graph"
        case .readGraph: "Read the entire knowledge graph (a page of it with limit; continue with the nextCursor it gives)"
        case .searchNodes: "Search for nodes in the knowledge graph based on a query"
        case .openNodes: "Open specific nodes in the knowledge graph by their names"
        }
    }

    public var schema: JSONValue {
        var properties: [String: JSONValue] = [:]
        switch self {
        case .createEntities: properties["entities"] = Self.list(Self.entity)
        case .createRelations, .deleteRelations: properties["relations"] = Self.list(Self.relation)
        case .addObservations:
            properties["observations"] = Self.list(Self.object([
                "entityName": Self.text("The name of the entity to add the observations to"),
                "contents": Self.list(Self.text("An observation")),
            ]))
        case .deleteEntities: properties["entityNames"] = Self.list(Self.text("An entity name to delete"))
        case .deleteObservations:
            properties["deletions"] = Self.list(Self.object([
                "entityName": Self.text("The name of the entity containing the observations"),
                "observations": Self.list(Self.text("An observation to delete")),
            ]))
        case .readGraph:
            properties["cursor"] = .object(["type": .string("string"), "description": .string("Where to continue: a nextCursor read_graph gave.")])
            properties["limit"] = .object([
                "type": .string("integer"), "minimum": .number(1), "maximum": .number(1000),
                "description": .string("At most this many entities and relations (the whole graph without it)."),
            ])
        case .searchNodes: properties["query"] = Self.text("The search query to match against entity names, types, and observation content")
        case .openNodes: properties["names"] = Self.list(Self.text("An entity name to retrieve"))
        }
        properties["persona"] = .object([
            "type": .string("string"), "minLength": .number(1), "maxLength": .number(200),
            "description": .string("Whose graph: a persona or a shared slice (default: the server's)."),
        ])
        let required = properties.keys.filter { !["persona", "cursor", "limit"].contains($0) }.sorted()
        return .object([
            "type": .string("object"), "properties": .object(properties), "required": .array(required.map(JSONValue.string)),
        ])
    }

    static let entity = object([
        "name": text("The name of the entity"), "entityType": text("The type of the entity"),
        "observations": list(text("An observation content associated with the entity")),
    ])
    static let relation = object([
        "from": text("The name of the entity where the relation starts"), "to": text("The name of the entity where the relation ends"),
        "relationType": text("The type of the relation"),
    ])

    static func object(_ properties: [String: JSONValue]) -> JSONValue {
        .object(["type": .string("object"), "properties": .object(properties), "required": .array(properties.keys.sorted().map(JSONValue.string))])
    }

    static func list(_ items: JSONValue) -> JSONValue {
        .object(["type": .string("array"), "items": items, "maxItems": .number(10_000)])
    }

    static func text(_ description: String) -> JSONValue {
        .object(["type": .string("string"), "maxLength": .number(100_000), "description": .string(description)])
    }
}
