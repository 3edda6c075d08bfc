import MCP
import TroupeCore
import TroupeService

/// The tools `troupe mcp` offers: the service's operations, with their JSON schemas.
enum ToolCatalog {
    static let tools: [Tool] = Operation.allCases.map { operation in
        let annotations: Tool.Annotations = switch operation {
        case .listPersonas, .recall, .history: .init(readOnlyHint: true)
        case .forget: .init(destructiveHint: true, idempotentHint: true)
        case .remember, .update, .say, .runSession: .init(destructiveHint: false, idempotentHint: false)
        }
        return Tool(name: operation.rawValue, description: operation.summary, inputSchema: Value(json: operation.schema), annotations: annotations)
    }

    /// The MCP memory server's tools (`troupe mcp --memory-graph`), annotated as it annotates them.
    static let memoryGraphTools: [Tool] = MemoryGraphTool.allCases.map { tool in
        let annotations = Tool.Annotations(
            readOnlyHint: tool.readsOnly, destructiveHint: tool.destructive, idempotentHint: tool.readsOnly || tool.destructive, openWorldHint: false)
        return Tool(name: tool.rawValue, description: tool.summary, inputSchema: Value(json: tool.schema), annotations: annotations)
    }
}
