import ArgumentParser
import Foundation
import Logging
import MCP
import ServiceLifecycle
import TroupeCore
import TroupeMCP
import TroupeRuntime
import TroupeService

/// `troupe mcp`: an MCP server on stdin and stdout, for an MCP client that starts it (Claude
/// Desktop, an IDE, an agent), acting as the local operator.
struct McpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "Serve the Model Context Protocol on stdio (tools, persona slices as resources, a prompt).",
        discussion: """
            Tools: list_personas, recall, remember, update, forget, history, say, run_session. Resources: \
            troupe://persona/<name>/<slice> and troupe://shared/<name>, with updates to those subscribed to. \
            Prompt: speak-as (persona, topic). stdout carries the protocol alone; \
            messages go to stderr. Ends when the client closes stdin, or on SIGINT/SIGTERM. \
            With --memory-graph NAME, also the MCP memory server's tools (create_entities, create_relations, \
            add_observations, delete_entities, delete_observations, delete_relations, read_graph, search_nodes, \
            open_nodes) on that persona's or shared slice's knowledge graph: a client of that server works unchanged.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Offer the MCP memory server's tools on this persona's (or shared slice's) knowledge graph.") var memoryGraph: String?

    func run() async throws {
        let runtime = try await global.memoryRuntime()
        await runtime.resumeFormation()
        if let memoryGraph { _ = try runtime.owner(memoryGraph) }
        let server = TroupeMCPServer(service: TroupeService(runtime: runtime), context: .local, memoryGraph: memoryGraph)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: runtime),
                .init(service: StdioMCP(server: server), successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "troupe.mcp")))
        try await group.run()
    }
}

/// The MCP server on stdio as a service beside the runtime's: it ends when the client closes
/// stdin or the group shuts down, and the group then shuts the runtime down.
struct StdioMCP: Service {
    let server: TroupeMCPServer

    func run() async throws {
        var logger = Logger(label: "troupe.mcp.stdio")
        logger.logLevel = .warning  // not the transport's notice at the end of stdin
        let transport = StdioTransport(logger: logger)
        try await cancelWhenGracefulShutdown { try await server.serve(on: transport) }
    }
}
