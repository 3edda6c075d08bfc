import Foundation
import MCP
import ServiceLifecycle
import TroupeCore
import TroupeMCP
import TroupeService
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// The MCP sessions of `/mcp` (``MCPEndpoint``): each one the SDK's streamable HTTP transport
/// with a ``TroupeMCPServer`` started on it, acting as the principal whose `initialize` opened it.
///
/// A session nobody has used for `idleTimeout` is closed and forgotten by ``sweep()``, which
/// ``run()`` calls every `sweepInterval`; past `limit` sessions, opening one closes the one idle
/// longest. The application runs this as one of its services: shutdown closes every session.
public actor MCPSessions: Service {
    struct Session {
        let transport: StatefulHTTPServerTransport
        let server: MCP.Server
        let principal: Principal
        var lastUsed: Date
    }

    public let service: TroupeService
    /// How long a session may go without a request before it is closed.
    public let idleTimeout: TimeInterval
    /// The most sessions kept at once.
    public let limit: Int
    let sweepInterval: Duration
    let clock: any WallClock
    private var sessions: [String: Session] = [:]
    /// Set once shutdown has begun: no session is opened after it.
    private var closed = false

    /// Sessions over `service`, idle ones closed after `idleTimeout` seconds (as `clock` tells
    /// time), at most `limit` at once.
    public init(
        service: TroupeService, idleTimeout: TimeInterval = 30 * 60, limit: Int = 1000, sweepInterval: Duration = .seconds(60),
        clock: any WallClock = SystemClock()
    ) {
        self.service = service
        self.idleTimeout = idleTimeout
        self.limit = max(1, limit)
        self.sweepInterval = sweepInterval
        self.clock = clock
    }

    /// How many sessions are open.
    public var count: Int { sessions.count }

    /// Opens a session with its `initialize` request, for `caller`, and answers it. A request the
    /// transport refuses (a wrong Accept header, a Host that is not loopback when `checkHost`)
    /// opens nothing.
    func open(_ request: MCP.HTTPRequest, caller: RequestContext, checkHost: Bool) async -> MCP.HTTPResponse {
        let transport = StatefulHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
            // Without keys the server listens on loopback, and a web page reaching it through DNS
            // rebinding would act as the admin; with keys, the key is what is checked.
            checkHost ? OriginValidator.localhost() : OriginValidator.disabled,
            // A client that takes JSON alone gets its answers as JSON (MCPEndpoint).
            AcceptHeaderValidator(mode: .jsonOnly),
            ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
        ]))
        let server = await TroupeMCPServer(service: service, context: caller).makeServer()
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("the MCP server did not start: \(error)"))
        }
        let answer = await transport.handleRequest(request)
        guard answer.statusCode == 200, let id = answer.headers[HTTPHeaderName.sessionID] else {
            await server.stop()
            return answer
        }
        // Re-checked here, after the awaits: shutdown may have begun meanwhile.
        guard !closed else {
            await server.stop()
            return .error(statusCode: 503, .internalError("the server is shutting down"))
        }
        var evicted: [Session] = []
        while sessions.count >= limit, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            evicted.append(sessions.removeValue(forKey: oldest.key)!)
        }
        sessions[id] = Session(transport: transport, server: server, principal: caller.principal, lastUsed: clock.now())
        for session in evicted { await session.server.stop() }
        return answer
    }

    /// Session `id`'s transport, when `principal` opened it; nil for an unknown session and for
    /// another principal's alike, so nobody learns which ids exist. Counts as the session's use.
    func transport(_ id: String, for principal: Principal) -> StatefulHTTPServerTransport? {
        guard sessions[id]?.principal == principal else { return nil }
        sessions[id]?.lastUsed = clock.now()
        return sessions[id]?.transport
    }

    /// Marks session `id` used now (a stream to it just ended).
    func touch(_ id: String) {
        sessions[id]?.lastUsed = clock.now()
    }

    /// Closes session `id` and forgets it.
    func close(_ id: String) async {
        await sessions.removeValue(forKey: id)?.server.stop()
    }

    /// Closes the sessions unused for longer than `idleTimeout`; how many.
    @discardableResult
    public func sweep() async -> Int {
        let cutoff = clock.now().addingTimeInterval(-idleTimeout)
        let idle = sessions.filter { $0.value.lastUsed < cutoff }
        for id in idle.keys { sessions[id] = nil }
        for session in idle.values { await session.server.stop() }
        return idle.count
    }

    /// Sweeps every `sweepInterval` until graceful shutdown or cancellation, then closes every
    /// session: their streams end, and their servers stop.
    public func run() async throws {
        let interval = sweepInterval
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await self.sweep()
            }
        }
        closed = true
        let all = sessions.values
        sessions = [:]
        for session in all { await session.server.stop() }
    }
}
