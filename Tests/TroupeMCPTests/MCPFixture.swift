import Foundation
import MCP
import TroupeConfig
import TroupeCore
import TroupeMCP
import TroupeRuntime
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// A runtime on a temporary home (SQLite, no Redis, the hashing embedder, the offline chat
/// backend) with athena and hestia sharing `team`, and a connected MCP client and server.
struct MCPFixture: Sendable {
    let directory: URL
    let runtime: Runtime
    let service: TroupeService
    let client: Client
    let server: Server

    /// A server acting for `principal` (the local operator by default), and a client
    /// connected to it over the SDK's in-memory transport pair.
    init(principal: Principal = .localOperator) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-mcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = RuntimeConfig()
        config.redis.mode = .off
        config.llm.backend = .offline
        config.embedder.path = directory.appendingPathComponent("no-model").path
        config.sharedSlices = [.init(name: "team", kind: .semantic, members: ["athena", "hestia"], policy: .keepBoth)]
        let personas: [PersonaDefinition] = [
            PersonaDefinition(
                name: "athena", role: "strategist", systemPrompt: "You are Athena, the team's strategist. Decide in writing.", priority: 60, procedural: [.init(kind: .rule, text: "Decide in writing.")], shared: ["team"]),
            PersonaDefinition(name: "hestia", priority: 40, shared: ["team"]),
        ]
        let location = ConfigLocation(configFile: nil, home: directory, personasDirectory: directory.appendingPathComponent("personas"))
        runtime = try await Runtime.opened(configuration: Configuration(location: location, runtime: config, personas: personas))
        service = TroupeService(runtime: runtime)
        server = await TroupeMCPServer(service: service, context: RequestContext(principal: principal)).makeServer()
        client = Client(name: "troupe-tests", version: "1")
        let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverSide)
        try await client.connect(transport: clientSide)
    }

    /// Calls a tool; its text, and whether it is a tool error.
    func call(_ tool: String, _ arguments: [String: Value]) async throws -> (text: String, isError: Bool) {
        let (content, isError) = try await client.callTool(name: tool, arguments: arguments)
        let text = content.compactMap { item -> String? in
            if case .text(let text, _, _) = item { return text }
            return nil
        }.joined(separator: "\n")
        return (text, isError ?? false)
    }

    /// A tool's JSON answer, parsed.
    func json(_ tool: String, _ arguments: [String: Value]) async throws -> JSONValue {
        let (text, isError) = try await call(tool, arguments)
        guard !isError else { throw TroupeError(.invalidInput, "tool \(tool) failed: \(text)") }
        return try JSONValue.parse(Array(text.utf8))
    }

    /// Runs `body` with a fixture, and stops it afterwards, also when `body` throws.
    static func with(principal: Principal = .localOperator, _ body: (MCPFixture) async throws -> Void) async throws {
        let fixture = try await MCPFixture(principal: principal)
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func stop() async {
        await client.disconnect()
        await server.stop()
        await runtime.shutdown()
        let directory = directory
        _ = try? await offThePool("troupe-test.remove-home") { try FileManager.default.removeItem(at: directory) }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    var items: [JSONValue] {
        guard case .array(let items) = self else { return [] }
        return items
    }

    var text: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
