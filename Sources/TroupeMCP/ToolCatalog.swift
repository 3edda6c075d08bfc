import MCP
import TroupeCore

/// The tools `troupe mcp` offers, with the JSON schemas their arguments are checked against.
enum ToolCatalog {
    static let sliceNames: [Value] = SliceKind.allCases.map { .string($0.rawValue) }

    static let persona: Value = .object(["type": "string", "minLength": 1, "description": "The persona to act as (list_personas)."])
    static let recordID: Value = .object(["type": "string", "minLength": 1, "description": "The memory's id."])
    static let tags: Value = .object(["type": "array", "items": .object(["type": "string"]), "maxItems": 64, "description": "Tags."])
    static let importance: Value = .object(["type": "number", "minimum": 0, "maximum": 1, "description": "How much it matters, 0 to 1."])

    static func schema(_ properties: [String: Value], required: [String]) -> Value {
        .object([
            "type": "object", "properties": .object(properties), "required": .array(required.map(Value.string)),
            "additionalProperties": false,
        ])
    }

    static let tools: [Tool] = [
        Tool(
            name: "list_personas", description: "The personas you may act as: name, role, system prompt, shared slices.",
            inputSchema: schema([:], required: []), annotations: .init(readOnlyHint: true)),
        Tool(
            name: "recall",
            description: "The memories of a persona that best answer a query (its own slices and its shared slices'), best first. "
                + "With why, each result carries every score component (semantic, lexical, recency, importance, context, date).",
            inputSchema: schema([
                "persona": persona,
                "query": .object(["type": "string", "minLength": 1, "maxLength": 10_000, "description": "What to recall."]),
                "limit": .object(["type": "integer", "minimum": 1, "maximum": 100, "description": "How many memories (default 10)."]),
                "why": .object(["type": "boolean", "description": "Include how each score was made."]),
                "slices": .object(["type": "array", "items": .object(["type": "string", "enum": .array(sliceNames)]), "maxItems": 4]),
            ], required: ["persona", "query"]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "remember",
            description: "Adds a memory as a persona, to one of its slices (slice) or to a shared slice it belongs to (shared): give one.",
            inputSchema: schema([
                "persona": persona,
                "content": .object(["type": "string", "minLength": 1, "maxLength": 100_000, "description": "The memory's text."]),
                "slice": .object(["type": "string", "enum": .array(sliceNames), "description": "A private slice."]),
                "shared": .object(["type": "string", "minLength": 1, "description": "A shared slice the persona belongs to."]),
                "importance": importance, "tags": tags,
            ], required: ["persona", "content"]),
            annotations: .init(destructiveHint: false, idempotentHint: false)),
        Tool(
            name: "update",
            description: "Writes a new version of a memory, based on the version you read (a stale base is refused for a private "
                + "memory; for a shared one the slice's policy decides).",
            inputSchema: schema([
                "persona": persona, "id": recordID,
                "base_version": .object(["type": "integer", "minimum": 1, "description": "The version the change is based on."]),
                "content": .object(["type": "string", "minLength": 1, "maxLength": 100_000, "description": "The new text."]),
                "importance": importance, "tags": tags,
            ], required: ["persona", "id", "base_version"]),
            annotations: .init(destructiveHint: false, idempotentHint: false)),
        Tool(
            name: "forget",
            description: "Removes a memory and all its versions for good (an audit line without the content remains).",
            inputSchema: schema([
                "persona": persona, "id": recordID,
                "reason": .object(["type": "string", "maxLength": 1000, "description": "Why, for the audit line."]),
            ], required: ["persona", "id"]),
            annotations: .init(destructiveHint: true, idempotentHint: true)),
        Tool(
            name: "history",
            description: "Every version of a memory, who wrote it, and values that lost a conflict.",
            inputSchema: schema(["persona": persona, "id": recordID], required: ["persona", "id"]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "say",
            description: "One chat turn with a persona: it recalls, replies, and remembers the exchange. Give the conversation id "
                + "a previous say returned to continue that conversation.",
            inputSchema: schema([
                "persona": persona,
                "message": .object(["type": "string", "minLength": 1, "maxLength": 100_000, "description": "What you say."]),
                "conversation": .object(["type": "string", "minLength": 1, "description": "A conversation id to resume."]),
            ], required: ["persona", "message"]),
            annotations: .init(destructiveHint: false, idempotentHint: false, openWorldHint: false)),
    ]

    static func tool(named name: String) -> Tool? { tools.first { $0.name == name } }
}
