import TroupeCore
import TroupeService

/// The API as an OpenAPI 3.1 document, served at `/openapi.json`. Made from the same operation
/// schemas the routes check their bodies against; a test holds it to the router's routes.
public enum OpenAPIDocument {
    /// One route: its method, its path with `{parameters}`, what it does, its JSON body's
    /// schema, and its status on success.
    struct Endpoint {
        var method: String
        var path: String
        var summary: String
        var body: JSONValue? = nil
        var query: [String: String] = [:]
        var success = 200
        /// Whether the answer is text rather than JSON.
        var text = false
        /// Whether that text is Markdown.
        var markdown = false
        /// Whether the answer is a stream of server-sent events.
        var stream = false
        /// Whether the route asks for a key when the server does.
        var needsKey = true
        /// Whether a failure is a JSON-RPC error object (MCP's) rather than ours.
        var jsonRPC = false

        /// The text's media type, when it is not plain text (the dashboard's page, script and style).
        var textType: String? = nil

        var mediaType: String {
            stream ? "text/event-stream" : textType ?? (markdown ? "text/markdown" : text ? "text/plain" : "application/json")
        }
    }

    /// Every route of ``APIRoutes``.
    static let endpoints: [Endpoint] = [
        Endpoint(method: "get", path: "/healthz", summary: "The process answers.", needsKey: false),
        Endpoint(method: "get", path: "/readyz", summary: "The store answers a read (503 if not); what the hot tier and the model are.", needsKey: false),
        Endpoint(method: "get", path: "/openapi.json", summary: "This document.", needsKey: false),
        Endpoint(method: "get", path: "/metrics", summary: "Metrics in Prometheus's text format (admin and operator keys).", text: true),
        Endpoint(method: "get", path: "/v1/personas", summary: Operation.listPersonas.summary),
        Endpoint(method: "get", path: "/v1/personas/{persona}", summary: "One persona in full, as `troupe personas show --json`."),
        Endpoint(method: "post", path: "/v1/personas/{persona}/recall", summary: Operation.recall.summary, body: bodySchema(.recall)),
        Endpoint(method: "post", path: "/v1/personas/{persona}/memories", summary: Operation.remember.summary, body: bodySchema(.remember), success: 201),
        Endpoint(
            method: "get", path: "/v1/personas/{persona}/memories/{id}",
            summary: "A memory's current version, as the persona reads it (its own memories and its shared slices'), as `troupe memory show --json`."),
        Endpoint(method: "patch", path: "/v1/personas/{persona}/memories/{id}", summary: Operation.update.summary, body: bodySchema(.update)),
        Endpoint(method: "delete", path: "/v1/personas/{persona}/memories/{id}", summary: Operation.forget.summary, query: ["reason": "Why, for the audit line."]),
        Endpoint(method: "get", path: "/v1/personas/{persona}/memories/{id}/history", summary: Operation.history.summary),
        Endpoint(method: "post", path: "/v1/personas/{persona}/say", summary: Operation.say.summary, body: bodySchema(.say)),
        Endpoint(
            method: "post", path: "/v1/personas/{persona}/say/stream",
            summary: "The same turn as server-sent events: recalled, delta (each piece of the reply), then done (the turn) or error. "
                + "Closing the connection stops the reply.",
            body: bodySchema(.say), stream: true),
        Endpoint(
            method: "get", path: "/v1/events",
            summary: "Memory events as they happen (server-sent events: written, superseded, disputed, forgotten, conflict-resolved), "
                + "never content; a client key sees its personas' and their shared slices'.",
            stream: true),
        Endpoint(
            method: "get", path: "/v1/stats",
            summary: "Current records per owner and slice, superseded versions, forgotten records, the store's size and the hot tier, "
                + "as `troupe memory stats --json` (admins and operators: the figures are the whole store's)."),
        Endpoint(
            method: "get", path: "/v1/audit",
            summary: "How stale writes to shared slices were resolved, newest first, as `troupe audit --json`. A client key sees the "
                + "shared slices its personas belong to.",
            query: ["slice": "Only this shared slice.", "record": "Only this record.", "limit": "At most this many lines (default 50)."]),
        Endpoint(
            method: "get", path: "/v1/sessions",
            summary: "The session runs kept in sessions/ in the home, by name: each one's status (admins and operators)."),
        Endpoint(method: "post", path: "/v1/sessions", summary: Operation.runSession.summary, body: Operation.runSession.schema),
        Endpoint(
            method: "get", path: "/v1/sessions/{name}",
            summary: "One run's status from its log: whether it ended (a run without an end was killed, or is running), why it "
                + "stopped, its expectations (admins and operators)."),
        Endpoint(
            method: "get", path: "/v1/sessions/{name}/transcript", summary: "The run's transcript, written when it ended (admins and operators).",
            text: true, markdown: true),
        Endpoint(method: "get", path: "/v1/keys", summary: "Every key, revoked ones too, never their secrets (admins)."),
        Endpoint(method: "post", path: "/v1/keys", summary: "Makes a key; the answer's `key` is shown only this once (admins).", body: KeyGrant.schema, success: 201),
        Endpoint(method: "delete", path: "/v1/keys/{id}", summary: "Revokes a key for good (admins)."),
        Endpoint(
            method: "get", path: "/v1/security-events", summary: "The security log, newest first (admins).",
            query: ["limit": "At most this many lines (default 100).", "kind": "Only this kind.", "key": "Only this key's lines."]),
        Endpoint(method: "get", path: "/", summary: "The dashboard (its reads use this API with your key).", text: true, needsKey: false, textType: "text/html"),
        Endpoint(method: "get", path: "/dashboard/app.js", summary: "The dashboard's script.", text: true, needsKey: false, textType: "text/javascript"),
        Endpoint(method: "get", path: "/dashboard/app.css", summary: "The dashboard's style.", text: true, needsKey: false, textType: "text/css"),
        Endpoint(method: "get", path: "/v1/whoami", summary: "The caller: its key's id, role, and for a client the personas it may act as."),
        Endpoint(
            method: "get", path: "/v1/personas/{persona}/counts",
            summary: "Current memories per owner and slice: the persona's own slices and the shared slices it belongs to."),
        Endpoint(
            method: "get", path: "/v1/personas/{persona}/beliefs",
            summary: "A page of the persona's records of one slice (or of a shared slice it belongs to), oldest first, each with its "
                + "history as `memory history --json` gives it (every version with valid_from and valid_to, values that lost a conflict, "
                + "records kept beside it) and the records that dispute it (`disputed_by`).",
            query: [
                "slice": "The slice (default semantic).", "shared": "A shared slice the persona belongs to, instead.",
                "after": "The `next` of the page before.", "limit": "Records per page (default 50, at most 500).",
            ]),
        Endpoint(
            method: "get", path: "/v1/personas/{persona}/turns",
            summary: "The persona's last turns, newest first: in this server's conversations (a client key: its own), then in session runs "
                + "(admins and operators); what each recalled and wrote, and where (`source`).",
            query: ["limit": "At most this many (default 5)."]),
        Endpoint(
            method: "get", path: "/v1/sessions/{name}/turns",
            summary: "A run's turns from its log as it is written, without prompts; `ended` once the run is over (admins and operators).",
            query: ["after": "Skip this many turns (those already read)."]),
        Endpoint(
            method: "post", path: "/mcp",
            summary: "MCP over streamable HTTP: one JSON-RPC message. An initialize without Mcp-Session-Id opens a session (its id in the "
                + "answer's Mcp-Session-Id); every later request names it. The answer is server-sent events, or JSON for a client "
                + "that accepts only application/json.",
            body: jsonRPCMessage, stream: true, jsonRPC: true),
        Endpoint(
            method: "get", path: "/mcp", summary: "The MCP session's stream of server-sent events, for messages the server starts.",
            stream: true, jsonRPC: true),
        Endpoint(method: "delete", path: "/mcp", summary: "Ends the MCP session named by Mcp-Session-Id.", jsonRPC: true),
    ]

    /// The document.
    public static var json: JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for endpoint in endpoints { paths[endpoint.path, default: [:]][endpoint.method] = operation(endpoint) }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("Troupe"), "version": .string("1"),
                "description": .string("Personas that remember. Answers are the CLI's --json shapes; a failure is {\"error\": {\"code\", \"message\", \"field\"?}}, "
                    + "except at /mcp, which answers as MCP's transport does: a JSON-RPC error object."),
            ]),
            "paths": .object(paths.mapValues { .object($0) }),
            "components": .object([
                "securitySchemes": .object(["key": .object(["type": .string("http"), "scheme": .string("bearer"), "bearerFormat": .string("trp_…")])]),
                "schemas": .object(["Error": errorSchema, "JSONRPCError": jsonRPCErrorSchema]),
            ]),
        ])
    }

    static func operation(_ endpoint: Endpoint) -> JSONValue {
        var parameters: [JSONValue] = endpoint.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { part in
            .object(["name": .string(String(part.dropFirst().dropLast())), "in": .string("path"), "required": .bool(true), "schema": .object(["type": .string("string")])])
        }
        for (name, description) in endpoint.query.sorted(by: { $0.key < $1.key }) {
            parameters.append(.object([
                "name": .string(name), "in": .string("query"), "required": .bool(false), "description": .string(description),
                "schema": .object(["type": .string("string")]),
            ]))
        }
        let error: JSONValue = .object([
            "description": .string(endpoint.jsonRPC ? "A failure, as MCP's transport answers it (404: no such session)." : "A failure, with the error table's status."),
            "content": .object([
                "application/json": .object(["schema": .object(["$ref": .string("#/components/schemas/" + (endpoint.jsonRPC ? "JSONRPCError" : "Error"))])])
            ]),
        ])
        var responses: [String: JSONValue] = [
            String(endpoint.success): .object([
                "description": .string("Done."),
                "content": .object([
                    endpoint.mediaType: .object(["schema": .object(endpoint.text || endpoint.stream ? ["type": .string("string")] : [:])])
                ]),
            ]),
            "default": error,
        ]
        if endpoint.needsKey {
            responses["401"] = .object(["description": .string("No valid key (when the server asks for keys).")])
            responses["429"] = .object(["description": .string("Over the key's rate limit; see Retry-After.")])
        }
        var object: [String: JSONValue] = [
            "summary": .string(endpoint.summary), "parameters": .array(parameters), "responses": .object(responses),
            "security": endpoint.needsKey ? .array([.object(["key": .array([])])]) : .array([]),
        ]
        if let body = endpoint.body {
            object["requestBody"] = .object([
                "required": .bool(true), "content": .object(["application/json": .object(["schema": body])]),
            ])
        }
        return .object(object)
    }

    /// An operation's schema without the arguments the path gives.
    static func bodySchema(_ operation: Operation) -> JSONValue {
        guard case .object(var schema) = operation.schema, case .object(var properties)? = schema["properties"],
            case .array(let required)? = schema["required"]
        else { return operation.schema }
        for name in ["persona", "id"] { properties[name] = nil }
        schema["properties"] = .object(properties)
        schema["required"] = .array(required.filter { $0 != .string("persona") && $0 != .string("id") })
        return .object(schema)
    }

    /// A JSON-RPC 2.0 message, as `/mcp` takes it.
    static let jsonRPCMessage: JSONValue = .object([
        "type": .string("object"), "required": .array([.string("jsonrpc")]),
        "properties": .object([
            "jsonrpc": .object(["const": .string("2.0")]), "id": .object(["type": .array([.string("string"), .string("integer")])]),
            "method": .object(["type": .string("string")]), "params": .object(["type": .string("object")]),
        ]),
    ])

    /// A JSON-RPC 2.0 error object: `/mcp`'s failures.
    static let jsonRPCErrorSchema: JSONValue = .object([
        "type": .string("object"), "required": .array([.string("jsonrpc"), .string("error")]),
        "properties": .object([
            "jsonrpc": .object(["const": .string("2.0")]), "id": .object(["type": .string("null")]),
            "error": .object([
                "type": .string("object"), "required": .array([.string("code"), .string("message")]),
                "properties": .object(["code": .object(["type": .string("integer")]), "message": .object(["type": .string("string")])]),
            ]),
        ]),
    ])

    static let errorSchema: JSONValue = .object([
        "type": .string("object"), "required": .array([.string("error")]),
        "properties": .object([
            "error": .object([
                "type": .string("object"), "required": .array([.string("code"), .string("message")]),
                "properties": .object([
                    "code": .object(["type": .string("string")]), "message": .object(["type": .string("string")]),
                    "field": .object(["type": .string("string"), "description": .string("The argument at fault.")]),
                ]),
            ])
        ]),
    ])
}
