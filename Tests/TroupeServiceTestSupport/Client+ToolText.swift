import MCP

extension Client {
    /// Calls a tool; the text of its answer, and whether it is a tool error.
    public func toolText(_ tool: String, _ arguments: [String: Value]) async throws -> (text: String, isError: Bool) {
        let (content, isError) = try await callTool(name: tool, arguments: arguments)
        let text = content.compactMap { item -> String? in
            if case .text(let text, _, _) = item { return text }
            return nil
        }.joined(separator: "\n")
        return (text, isError ?? false)
    }
}
