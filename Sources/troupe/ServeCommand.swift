import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TroupeCore
import TroupeRuntime
import TroupeServer
import TroupeService

/// `troupe serve`: the HTTP API over the service layer, beside the runtime, until SIGINT or
/// SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the HTTP API and the dashboard (at /): loopback only without keys, any address with them.",
        discussion: """
            Routes: GET /healthz, /readyz; GET /v1/personas, /v1/personas/NAME; POST /v1/personas/NAME/recall, \
            /v1/personas/NAME/memories, /v1/personas/NAME/say; GET, PATCH and DELETE /v1/personas/NAME/memories/ID; \
            GET /v1/personas/NAME/memories/ID/history; GET /v1/stats, /v1/audit; GET, POST /v1/sessions; \
            GET /v1/sessions/NAME, /v1/sessions/NAME/transcript; GET, POST /v1/keys; DELETE /v1/keys/ID; \
            GET /v1/security-events; GET /v1/events (server-sent events); POST, GET, DELETE /mcp (MCP over streamable \
            HTTP); GET / (the dashboard, read through the API with your key), /v1/whoami, /v1/personas/NAME/counts, \
            /v1/personas/NAME/beliefs, /v1/personas/NAME/turns, /v1/sessions/NAME/turns. Answers are the --json shapes \
            of the CLI. \
            Without keys (troupe keys create) every caller acts as the admin, so only loopback addresses are \
            accepted. With a key that is not revoked when the server starts, every route but /healthz, /readyz \
            and the dashboard's page and assets needs `Authorization: Bearer trp_…`, and any address may be given. Prints \
            `listening on http://HOST:PORT` on stderr once the socket is bound.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Where to listen, HOST:PORT (port 0: any free one); loopback only without keys.", valueName: "host:port"))
    var listen = "127.0.0.1:7420"

    func validate() throws {
        do { _ = try TroupeHTTPServer.Listen(listen, anyHost: true) } catch let error as TroupeError { throw ValidationError(error.message) }
    }

    func run() async throws {
        let runtime = try await global.memoryRuntime()
        let service = TroupeService(runtime: runtime)
        let keysRequired = try await service.hasActiveKeys()
        let address = try TroupeHTTPServer.Listen(listen, anyHost: keysRequired)
        if !keysRequired {
            Output.stderr("no keys: every caller acts as the admin, so the API listens on loopback only (troupe keys create makes one)")
        }
        await runtime.resumeFormation()
        var logger = Logger(label: "troupe.serve")
        logger.logLevel = .warning
        let app = TroupeHTTPServer.application(service: service, listen: address, keysRequired: keysRequired, logger: logger) { bound in
            Output.stderr("listening on http://\(bound)" + (keysRequired ? " (keys required)" : ""))
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: runtime),
                .init(service: app, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
