import TroupeCore

/// The operations every front end offers by name (MCP tools, HTTP routes), each with the JSON
/// schema its arguments are checked against (``Arguments``) and a line saying what it does.
public enum Operation: String, Sendable, CaseIterable {
    case listPersonas = "list_personas"
    case recall, remember, update, forget, history, say
    case runSession = "run_session"

    /// Whether the operation only reads (recall touches access counts, nothing a caller sees).
    public var readsOnly: Bool { self == .listPersonas || self == .recall || self == .history }

    public var summary: String {
        switch self {
        case .listPersonas: "The personas you may act as: name, role, system prompt, shared slices."
        case .recall:
            "The memories of a persona that best answer a query (its own slices and its shared slices'), best first. "
                + "With why, each result carries every score component (semantic, lexical, recency, importance, context, date)."
        case .remember: "Adds a memory as a persona, to one of its slices (slice) or to a shared slice it belongs to (shared): give one."
        case .update:
            "Writes a new version of a memory, based on the version you read (a stale base is refused for a private "
                + "memory; for a shared one the slice's policy decides)."
        case .forget: "Removes a memory and all its versions for good (an audit line without the content remains)."
        case .history: "Every version of a memory, who wrote it, and values that lost a conflict."
        case .say:
            "One chat turn with a persona: it recalls, replies, and remembers the exchange. Give the conversation id "
                + "a previous say returned to continue that conversation."
        case .runSession:
            "Runs a scripted multi-persona session (the YAML of a session file) to its end, into sessions/<name> in the home, "
                + "and answers with how it ended: why it stopped, each expectation, where the transcript and the log are. "
                + "Operators and admins only; at most \(TroupeService.remoteSessionRounds) rounds and "
                + "\(Int(TroupeService.remoteSessionSeconds)) seconds, one run at a time."
        }
    }

    public var schema: JSONValue {
        switch self {
        case .listPersonas: Self.object([:], required: [])
        case .recall:
            Self.object([
                "persona": Self.persona, "query": Self.text("What to recall.", max: 10_000),
                "limit": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(100),
                                  "description": .string("How many memories (default 10).")]),
                "why": .object(["type": .string("boolean"), "description": .string("Include how each score was made.")]),
                "slices": .object(["type": .string("array"), "items": Self.sliceName, "maxItems": .number(4),
                                   "description": .string("Only these slices.")]),
            ], required: ["persona", "query"])
        case .remember:
            Self.object([
                "persona": Self.persona, "content": Self.text("The memory's text.", max: 100_000),
                "slice": Self.sliceName, "shared": Self.text("A shared slice the persona belongs to.", max: 200),
                "importance": Self.importance, "tags": Self.tags,
            ], required: ["persona", "content"])
        case .update:
            Self.object([
                "persona": Self.persona, "id": Self.recordID,
                "base_version": .object(["type": .string("integer"), "minimum": .number(1),
                                         "description": .string("The version the change is based on.")]),
                "content": Self.text("The new text.", max: 100_000), "importance": Self.importance, "tags": Self.tags,
            ], required: ["persona", "id", "base_version"])
        case .forget:
            Self.object(["persona": Self.persona, "id": Self.recordID, "reason": Self.text("Why, for the audit line.", max: 1000)],
                        required: ["persona", "id"])
        case .history:
            Self.object(["persona": Self.persona, "id": Self.recordID], required: ["persona", "id"])
        case .say:
            Self.object([
                "persona": Self.persona, "message": Self.text("What you say.", max: 100_000),
                "conversation": Self.text("A conversation id to resume.", max: 200),
            ], required: ["persona", "message"])
        case .runSession:
            Self.object([
                "name": Self.text("The run's name: its folder in sessions/ (letters, digits, '.', '_', '-').", max: 64),
                "session": Self.text("The session file's YAML (title, personas, opening, max_rounds, stop, expectations, …).", max: 100_000),
            ], required: ["name", "session"])
        }
    }

    // MARK: Schema parts

    static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        .object([
            "type": .string("object"), "properties": .object(properties), "required": .array(required.map(JSONValue.string)),
            "additionalProperties": .bool(false),
        ])
    }

    static func text(_ description: String, max: Int) -> JSONValue {
        .object(["type": .string("string"), "minLength": .number(1), "maxLength": .number(Double(max)), "description": .string(description)])
    }

    static let persona = text("The persona to act as (list_personas).", max: 200)
    static let recordID = text("The memory's id.", max: 200)
    static let sliceName: JSONValue = .object([
        "type": .string("string"), "enum": .array(SliceKind.allCases.map { .string($0.rawValue) }),
        "description": .string("A private slice."),
    ])
    static let importance: JSONValue = .object([
        "type": .string("number"), "minimum": .number(0), "maximum": .number(1), "description": .string("How much it matters, 0 to 1."),
    ])
    static let tags: JSONValue = .object([
        "type": .string("array"), "items": .object(["type": .string("string"), "maxLength": .number(200)]), "maxItems": .number(64),
        "description": .string("Tags."),
    ])
}
