import Foundation
import MCP
import TroupeCore
import TroupeRuntime
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Runs one tool call on the service: arguments checked against the tool's schema, the
/// operation, and its answer as the CLI's `--json` shape (text, and structured content).
///
/// Whatever goes wrong is a tool error (`isError`) whose text says what, naming the argument
/// when one is at fault: never a protocol failure, a crash or a stack trace.
struct ToolCalls: Sendable {
    let service: TroupeService
    let context: RequestContext

    func call(_ name: String, arguments: [String: Value]?) async throws -> CallTool.Result {
        guard let tool = ToolCatalog.tool(named: name) else {
            throw MCPError.invalidParams("unknown tool '\(name)'; tools: \(ToolCatalog.tools.map(\.name).joined(separator: ", "))")
        }
        do {
            let input = try ToolInput(arguments, schema: tool.inputSchema)
            return Self.success(try await run(name, input))
        } catch let error as ToolInputError {
            return Self.failure(error.description)
        } catch let error as TroupeError {
            return Self.failure("\(ErrorTable.entry(error.code).name): \(error.description)")
        } catch {
            return Self.failure("\(ErrorTable.entry(for: error).name): \(error)")
        }
    }

    private func run(_ name: String, _ input: ToolInput) async throws -> JSONValue {
        switch name {
        case "list_personas":
            return .object(["personas": .array(try await service.personas(context).map(JSONView.persona))])
        case "recall":
            let slices = try input.strings("slices")?.map { name throws(ToolInputError) in
                guard let kind = SliceKind(name: name) else { throw ToolInputError(field: "slices", "unknown slice '\(name)'") }
                return kind
            }
            let hits = try await service.recall(
                persona: try input.required("persona"), query: try input.required("query"), slices: slices, limit: input.int("limit"), context)
            let why = input.bool("why") ?? false
            return .object(["results": .array(hits.map { hit in why ? JSONView.hit(hit) : Self.withoutComponents(JSONView.hit(hit)) })])
        case "remember":
            let target: MemoryTarget
            switch (input.string("slice"), input.string("shared")) {
            case (let slice?, nil): target = .slice(SliceKind(name: slice)!)  // the schema's enum holds only slice names
            case (nil, let shared?): target = .shared(shared)
            case (nil, nil): throw ToolInputError(field: "slice", "give either slice or shared")
            case (_?, _?): throw ToolInputError(field: "shared", "give either slice or shared, not both")
            }
            let record = try await service.remember(
                persona: try input.required("persona"), content: try input.required("content"), in: target,
                importance: input.double("importance") ?? 0.5, tags: input.strings("tags") ?? [], context)
            return JSONView.record(record)
        case "update":
            let change = MemoryChange(content: input.string("content"), importance: input.double("importance"), tags: input.strings("tags"))
            guard change.content != nil || change.importance != nil || change.tags != nil else {
                throw ToolInputError(field: "content", "nothing to change: give content, importance or tags")
            }
            guard let base = input.int("base_version") else { throw ToolInputError(field: "base_version", "is required") }
            let outcome = try await service.update(persona: try input.required("persona"), id: try input.required("id"), basedOn: base, change: change, context)
            return JSONView.outcome(outcome)
        case "forget":
            let id = try input.required("id")
            return JSONView.receipt(try await service.forget(id: id, persona: try input.required("persona"), reason: input.string("reason"), context))
        case "history":
            let id = try input.required("id")
            return JSONView.history(id, try await service.history(id: id, persona: try input.required("persona"), context))
        case "say":
            let turn = try await service.say(
                persona: try input.required("persona"), message: try input.required("message"), conversation: input.string("conversation"), context)
            return Self.turn(turn)
        default:
            throw MCPError.invalidParams("unknown tool '\(name)'")
        }
    }

    /// A turn as `troupe chat --json` gives it, without the prompt as sent (the caller has the
    /// conversation; the prompt is large and holds the persona's instructions).
    static func turn(_ turn: TurnRecord) -> JSONValue {
        guard case .object(var object) = JSONView.turn(turn) else { return JSONView.turn(turn) }
        object["prompt"] = nil
        return .object(object)
    }

    static func withoutComponents(_ hit: JSONValue) -> JSONValue {
        guard case .object(var object) = hit else { return hit }
        object["components"] = nil
        return .object(object)
    }

    static func success(_ value: JSONValue) -> CallTool.Result {
        // Typed optional: a plain `Value` would choose the SDK's generic (throwing) initialiser.
        let structured: Value? = Value(json: value)
        return CallTool.Result(content: [.text(text: value.canonicalText, annotations: nil, _meta: nil)], structuredContent: structured)
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}

extension Value {
    /// A Troupe JSON value as MCP's: whole numbers as integers.
    init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = n.rounded() == n && abs(n) < 1e15 ? .int(Int(n)) : .double(n)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map { Value(json: $0) })
        case .object(let o): self = .object(o.mapValues { Value(json: $0) })
        }
    }
}
