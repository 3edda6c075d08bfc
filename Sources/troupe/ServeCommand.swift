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
        commandName: "serve", abstract: "Serve the HTTP API (loopback only: no keys yet).",
        discussion: """
            Routes: GET /healthz; GET /v1/personas, /v1/personas/NAME; POST /v1/personas/NAME/recall, \
            /v1/personas/NAME/memories, /v1/personas/NAME/say; PATCH and DELETE /v1/personas/NAME/memories/ID; \
            GET /v1/personas/NAME/memories/ID/history. Answers are the --json shapes of the CLI. Every caller acts \
            as the operator, so only loopback addresses are accepted. Prints `listening on http://HOST:PORT` on \
            stderr once the socket is bound.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Where to listen, HOST:PORT on loopback (port 0: any free one).", valueName: "host:port"))
    var listen = "127.0.0.1:7420"

    func validate() throws {
        do { _ = try TroupeHTTPServer.Listen(listen) } catch let error as TroupeError { throw ValidationError(error.message) }
    }

    func run() async throws {
        let address = try TroupeHTTPServer.Listen(listen)
        let runtime = try await global.memoryRuntime()
        await runtime.resumeFormation()
        var logger = Logger(label: "troupe.serve")
        logger.logLevel = .warning
        let app = TroupeHTTPServer.application(service: TroupeService(runtime: runtime), listen: address, logger: logger) { bound in
            Output.stderr("listening on http://\(bound)")
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
