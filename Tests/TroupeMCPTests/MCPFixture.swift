import Foundation
import MCP
import TroupeCore
import TroupeMCP
import TroupeService
import TroupeServiceTestSupport
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// A service on a temporary home (``ServiceHome``), and an MCP client connected to a server
/// over it.
struct MCPFixture: Sendable {
    let home: ServiceHome
    let client: Client
    let server: Server

    var service: TroupeService { home.service }

    /// A server acting for `principal` (the local operator by default), and a client
    /// connected to it over the SDK's in-memory transport pair.
    init(principal: Principal = .local) async throws {
        home = try await ServiceHome()
        server = await TroupeMCPServer(service: home.service, context: RequestContext(principal: principal)).makeServer()
        client = Client(name: "troupe-tests", version: "1")
        let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverSide)
        try await client.connect(transport: clientSide)
    }

    /// Calls a tool; its text, and whether it is a tool error.
    func call(_ tool: String, _ arguments: [String: Value]) async throws -> (text: String, isError: Bool) {
        try await client.toolText(tool, arguments)
    }

    /// A tool's JSON answer, parsed.
    func json(_ tool: String, _ arguments: [String: Value]) async throws -> JSONValue {
        let (text, isError) = try await call(tool, arguments)
        guard !isError else { throw TroupeError(.invalidInput, "tool \(tool) failed: \(text)") }
        return try JSONValue.parse(Array(text.utf8))
    }

    /// Runs `body` with a fixture, and stops it afterwards, also when `body` throws.
    static func with(principal: Principal = .local, _ body: (MCPFixture) async throws -> Void) async throws {
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
        await home.stop()
    }
}
