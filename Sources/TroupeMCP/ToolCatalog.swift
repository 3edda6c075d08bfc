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
}
