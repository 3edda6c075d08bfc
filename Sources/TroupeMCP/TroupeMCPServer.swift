import Foundation
import Logging
import MCP
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// Troupe as an MCP server: the tools (``ToolCatalog``), the slices of personas and shared
/// slices as resources (``SliceResources``), with updates to those subscribed to
/// (``ResourceSubscriptions``), and the `speak-as` prompt, all over one ``TroupeService`` acting
/// for one caller.
///
/// One server serves one connection (stdio: the local operator). Nothing here writes to
/// stdout: on stdio it carries the protocol alone.
public struct TroupeMCPServer: Sendable {
    public let service: TroupeService
    public let context: RequestContext
    /// With a persona or shared slice, the MCP memory server's tools (create_entities, …,
    /// read_graph) are offered too, on that owner's knowledge graph.
    public let memoryGraph: String?

    public init(service: TroupeService, context: RequestContext = .local, memoryGraph: String? = nil) {
        self.service = service
        self.context = context
        self.memoryGraph = memoryGraph
    }

    /// A server with every handler registered, not yet started. Its resource subscriptions end
    /// with it: stopping the server (or its transport closing) is all it takes.
    public func makeServer(version: String = "0.1.0") async -> Server {
        let server = Server(
            name: "troupe", version: version, title: "Troupe",
            instructions: "Personas that remember. list_personas first; recall and remember act as a persona; say talks with one.",
            capabilities: .init(prompts: .init(listChanged: false), resources: .init(subscribe: true, listChanged: false), tools: .init(listChanged: false)))
        let tools = ToolCalls(service: service, context: context, memoryGraph: memoryGraph)
        let list = ToolCatalog.tools + (memoryGraph == nil ? [] : ToolCatalog.memoryGraphTools)
        let resources = SliceResources(service: service, context: context)
        let subscriptions = ResourceSubscriptions(service: service, context: context)
        let prompt = SpeakAsPrompt(service: service, context: context)
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: list) }
        await server.withMethodHandler(CallTool.self) { params in try await tools.call(params.name, arguments: params.arguments) }
        await server.withMethodHandler(ListResources.self) { _ in try await resources.list() }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in resources.templates() }
        await server.withMethodHandler(ReadResource.self) { params in try await resources.read(params.uri) }
        // Weakly: the server keeps its handlers, and must not keep itself.
        await server.withMethodHandler(ResourceSubscribe.self) { [weak server] params in
            let address = try await resources.readable(params.uri)
            guard let server else { throw MCPError.internalError("the session has ended") }
            await subscriptions.subscribe(address, notifying: server)
            return Empty()
        }
        await server.withMethodHandler(ResourceUnsubscribe.self) { params in
            await subscriptions.unsubscribe(try ResourceAddress(uri: params.uri))
            return Empty()
        }
        await server.withMethodHandler(ListPrompts.self) { _ in ListPrompts.Result(prompts: [SpeakAsPrompt.prompt]) }
        await server.withMethodHandler(GetPrompt.self) { params in
            guard params.name == SpeakAsPrompt.prompt.name else {
                throw MCPError.invalidParams("unknown prompt '\(params.name)'; prompts: \(SpeakAsPrompt.prompt.name)")
            }
            return try await prompt.get(params.arguments)
        }
        return server
    }

    /// Serves on `transport` until the peer closes it (stdin's end on stdio) or the task is
    /// cancelled (SIGINT/SIGTERM in the CLI), then stops the server.
    public func serve(on transport: any Transport) async throws {
        let server = await makeServer()
        try await server.start(transport: transport)
        await withTaskCancellationHandler {
            await server.waitUntilCompleted()
        } onCancel: {
            Task { await server.stop() }
        }
        await server.stop()
    }
}
