import Foundation
import MCP
import TroupeCore
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Runs one tool call on the service (``TroupeService/call(_:_:_:)``: arguments checked
/// against the operation's schema, then the operation) and answers with the CLI's `--json`
/// shape, as text and as structured content.
///
/// Whatever goes wrong is a tool error (`isError`) whose text says what, naming the argument
/// when one is at fault: never a protocol failure, a crash or a stack trace. Only an unknown
/// tool is a protocol error (invalid params), as the MCP specification asks.
struct ToolCalls: Sendable {
    let service: TroupeService
    let context: RequestContext
    /// Whose knowledge graph the MCP memory server's tools work on, when they are offered.
    var memoryGraph: String?

    func call(_ name: String, arguments: [String: Value]?) async throws -> CallTool.Result {
        if memoryGraph != nil, let tool = MemoryGraphTool(rawValue: name) { return await call(tool, arguments: arguments) }
        guard let operation = Operation(rawValue: name) else {
            throw MCPError.invalidParams("unknown tool '\(name)'; tools: \(Operation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do {
            let value = try await service.call(operation, arguments?.mapValues(JSONValue.init(mcp:)), context)
            // Typed optional: a plain `Value` would choose the SDK's generic (throwing) initialiser.
            let structured: Value? = Value(json: value)
            return CallTool.Result(content: [.text(text: value.canonicalText, annotations: nil, _meta: nil)], structuredContent: structured)
        } catch {
            return CallTool.Result(content: [.text(text: TroupeService.failure(error).text, annotations: nil, _meta: nil)], isError: true)
        }
    }

    /// One of the MCP memory server's tools: its text and structured content as that server gives them.
    private func call(_ tool: MemoryGraphTool, arguments: [String: Value]?) async -> CallTool.Result {
        do {
            let answer = try await service.callMemoryGraph(tool, arguments?.mapValues(JSONValue.init(mcp:)), owner: memoryGraph, context)
            let structured: Value? = Value(json: answer.structured)
            return CallTool.Result(content: [.text(text: answer.text, annotations: nil, _meta: nil)], structuredContent: structured)
        } catch {
            return CallTool.Result(content: [.text(text: TroupeService.failure(error).text, annotations: nil, _meta: nil)], isError: true)
        }
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

extension JSONValue {
    /// An MCP value as Troupe's JSON (data as its data: URL text, as MCP encodes it).
    init(mcp value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let n): self = .number(Double(n))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .data: self = .string(value.description)
        case .array(let a): self = .array(a.map { JSONValue(mcp: $0) })
        case .object(let o): self = .object(o.mapValues { JSONValue(mcp: $0) })
        }
    }
}
