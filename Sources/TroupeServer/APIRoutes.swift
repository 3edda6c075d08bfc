import Foundation
import Hummingbird
import NIOCore
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

/// The HTTP API's routes: thin, each one operation of the service layer, answering with the
/// CLI's `--json` shapes. A failure is `{"error": {"code", "message", "field"?}}` with the status
/// the error table gives (400 for a bad argument or body, 403 denied, 404 not found, 409 conflict).
///
/// ```
/// GET    /healthz                              the process answers
/// GET    /readyz                               the store answers (503 if not); hot tier and model
/// GET    /openapi.json                         the API as an OpenAPI 3.1 document (OpenAPIDocument.swift)
/// GET    /metrics                              Prometheus text (not for client keys; ServerMetrics.swift)
/// GET    /v1/personas                          personas list --json
/// GET    /v1/personas/:persona                 personas show --json
/// POST   /v1/personas/:persona/recall          {query, limit?, slices?, why?}   memory recall --json
/// POST   /v1/personas/:persona/memories        {content, slice | shared, importance?, tags?}   201, memory add --json
/// GET    /v1/personas/:persona/memories/:id    memory show --persona --json
/// PATCH  /v1/personas/:persona/memories/:id    {base_version, content?, importance?, tags?}   memory update --json
/// DELETE /v1/personas/:persona/memories/:id    ?reason=…   memory forget --json
/// GET    /v1/personas/:persona/memories/:id/history        memory history --json
/// POST   /v1/personas/:persona/say             {message, conversation?}   chat --json (without the prompt)
/// POST   /v1/personas/:persona/say/stream      {message, conversation?}   the turn as server-sent events (TurnStream.swift)
/// GET    /v1/events                            memory events as server-sent events (EventStream.swift)
/// GET    /v1/stats                             memory stats --json (operators)
/// GET    /v1/audit                             ?slice=&record=&limit=   audit --json (a client: its shared slices')
/// GET    /v1/sessions                          the runs in sessions/ in the home, each one's status (operators)
/// POST   /v1/sessions                          {name, session}   run --json: a session's YAML, run to its end (operators)
/// GET    /v1/sessions/:name                    one run's status: ended or not, why it stopped, its expectations
/// GET    /v1/sessions/:name/transcript         its transcript.md
/// GET    /v1/keys                              keys list --json (admins)
/// POST   /v1/keys                              {role, personas?, label?, rate?, burst?}   201, keys create --json
/// DELETE /v1/keys/:id                          keys revoke --json
/// GET    /v1/security-events                   ?limit=&kind=&key=   audit --security --json
/// POST, GET, DELETE /mcp                       MCP over streamable HTTP (MCPEndpoint.swift)
/// GET    /, /dashboard/…, and the dashboard's reads (APIRoutes+Dashboard.swift)
/// ```
///
/// Who may call what is ``AccessMiddleware``'s and the service's: a denial (403) is written to
/// the security log here, with the caller and the peer's address.
public struct APIRoutes: Sendable {
    public let service: TroupeService
    /// The MCP sessions of `/mcp`.
    public let mcp: MCPSessions
    /// The largest request body read (1 MiB); a larger one is refused with 413.
    static let maxBody = 1 << 20

    /// The routes over `service`, with `mcp`'s sessions (by default: new ones, with the
    /// default timeout and limit).
    public init(service: TroupeService, mcp: MCPSessions? = nil) {
        self.service = service
        self.mcp = mcp ?? MCPSessions(service: service)
    }

    /// The routes; with `keysRequired`, every caller but the probes' must bring a key.
    public func router(keysRequired: Bool) -> Router<APIContext> {
        _ = ServerMetrics.registry  // bootstraps swift-metrics, once per process
        let router = Router(context: APIContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: AccessMiddleware(service: service, keysRequired: keysRequired))
        router.get("healthz") { _, _ in Self.json(.object(["status": .string("ok")])) }
        router.get("openapi.json") { _, _ in Self.json(OpenAPIDocument.json) }
        router.get("metrics") { _, context in
            do {
                let text = try await ServerMetrics.exposition(service, context.caller)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
            } catch {
                return try await respond(context) { throw error }
            }
        }
        router.get("readyz") { _, _ in
            let readiness = await service.readiness()
            return Self.json(readiness.json, status: readiness.ready ? .ok : .serviceUnavailable)
        }
        personaRoutes(router.group("v1/personas"))
        keyRoutes(router.group("v1"))
        homeRoutes(router.group("v1"))
        dashboardRoutes(router)
        MCPEndpoint(sessions: mcp, keysRequired: keysRequired).register(router)
        return router
    }

    func personaRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get { _, context in
            try await respond(context) { .array(try await service.personas(context.caller).map(JSONView.persona)) }
        }
        v1.get(":persona") { _, context in
            try await respond(context) { JSONView.persona(try await service.persona(try context.parameters.require("persona"), context.caller)) }
        }
        v1.post(":persona/recall") { request, context in
            try await respond(context) {
                var arguments = try await Self.body(request, context)
                if arguments["why"] == nil { arguments["why"] = .bool(true) }  // as --json: every component
                let answer = try await service.call(.recall, arguments, context.caller)
                if case .object(let object) = answer, let results = object["results"] { return results }
                return answer
            }
        }
        v1.post(":persona/memories") { request, context in
            try await respond(context, status: .created) { try await service.call(.remember, try await Self.body(request, context), context.caller) }
        }
        v1.get(":persona/memories/:id") { _, context in
            try await respond(context) {
                let (persona, id) = (try context.parameters.require("persona"), try context.parameters.require("id"))
                return JSONView.record(try await service.record(id: id, persona: persona, context.caller))
            }
        }
        v1.patch(":persona/memories/:id") { request, context in
            try await respond(context) { try await service.call(.update, try await Self.body(request, context, id: true), context.caller) }
        }
        v1.delete(":persona/memories/:id") { request, context in
            try await respond(context) {
                var arguments = try Self.pathArguments(context, id: true)
                if let reason = request.uri.queryParameters["reason"] { arguments["reason"] = .string(String(reason)) }
                return try await service.call(.forget, arguments, context.caller)
            }
        }
        v1.get(":persona/memories/:id/history") { _, context in
            try await respond(context) { try await service.call(.history, try Self.pathArguments(context, id: true), context.caller) }
        }
        v1.post(":persona/say") { request, context in
            try await respond(context) { try await service.call(.say, try await Self.body(request, context), context.caller) }
        }
        v1.post(":persona/say/stream") { request, context in
            do {
                let input = try Arguments(try await Self.body(request, context), schema: Operation.say.schema)
                let handle = try await service.startTurn(
                    persona: try input.required("persona"), message: try input.required("message"), conversation: input.string("conversation"),
                    context.caller)
                return TurnStream.response(handle)
            } catch {
                return try await respond(context) { throw error }
            }
        }
    }

    func keyRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("events") { _, context in EventStream.response(service.events(context.caller)) }
        v1.get("keys") { _, context in
            try await respond(context) { .array(try await service.keys(context.caller).map(JSONView.key)) }
        }
        v1.post("keys") { request, context in
            try await respond(context, status: .created) {
                JSONView.created(try await service.createKey(KeyGrant(arguments: try await Self.object(request)), context.caller))
            }
        }
        v1.delete("keys/:id") { _, context in
            try await respond(context) { JSONView.key(try await service.revokeKey(try context.parameters.require("id"), context.caller)) }
        }
        v1.get("security-events") { request, context in
            try await respond(context) {
                let parameters = request.uri.queryParameters
                var query = SecurityEventQuery(keyID: parameters["key"].map(String.init), limit: 100)
                if let limit = parameters["limit"] {
                    guard let n = Int(String(limit)), (1...10_000).contains(n) else { throw ArgumentError(field: "limit", "must be a whole number from 1 to 10000") }
                    query.limit = n
                }
                if let kind = parameters["kind"] {
                    guard let k = SecurityEvent.Kind(rawValue: String(kind)) else {
                        throw ArgumentError(field: "kind", "must be one of \(SecurityEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    query.kinds = [k]
                }
                return .array(try await service.securityEvents(query, context.caller).map(JSONView.securityEvent))
            }
        }
    }

    // MARK: Requests

    /// The path's persona (and id), as arguments.
    static func pathArguments(_ context: APIContext, id: Bool = false) throws -> [String: JSONValue] {
        var arguments: [String: JSONValue] = ["persona": .string(try context.parameters.require("persona"))]
        if id { arguments["id"] = .string(try context.parameters.require("id")) }
        return arguments
    }

    /// The body's JSON object with the path's arguments; the path's win over the body's.
    static func body(_ request: Request, _ context: APIContext, id: Bool = false) async throws -> [String: JSONValue] {
        var arguments = try await object(request)
        for (name, value) in try pathArguments(context, id: id) { arguments[name] = value }
        return arguments
    }

    /// The body's JSON object.
    static func object(_ request: Request) async throws -> [String: JSONValue] {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: maxBody) } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(maxBody) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty, case .object(let arguments) = try? JSONValue.parse(bytes) else {
            throw TroupeError(.invalidInput, "the body must be a JSON object")
        }
        return arguments
    }

    // MARK: Responses

    /// Runs `body` and answers with its JSON, or with the error's status and message; a denial
    /// is written to the security log.
    func respond(_ context: APIContext, status: HTTPResponse.Status = .ok, _ body: () async throws -> JSONValue) async throws -> Response {
        do {
            return Self.json(try await body(), status: status)
        } catch {
            if let error = error as? TroupeError, error.code == .denied { await service.recordDenial(error.message, context.caller) }
            return Self.failure(error)
        }
    }

    /// The answer to a failed request: `{"error": {"code", "message", "field"?}}` with the error
    /// table's status, and the headers a 401 or a 429 needs.
    static func failure(_ error: any Error) -> Response {
        if let error = error as? HTTPError {
            // The transport's own refusals (a body too large), in the same shape.
            let message = error.body ?? error.status.reasonPhrase
            return json(.object(["error": .object(["code": .string("too-large"), "message": .string(message)])]), status: error.status)
        }
        let failure = TroupeService.failure(error)
        var object: [String: JSONValue] = ["code": .string(failure.entry.name), "message": .string(failure.message)]
        if let field = failure.field, !field.isEmpty { object["field"] = .string(field) }
        var response = json(.object(["error": .object(object)]), status: HTTPResponse.Status(code: failure.entry.httpStatus))
        if let limited = error as? RateLimitedError {
            response.headers[.retryAfter] = String(RateLimitedError.wholeSeconds(limited.retryAfter))
        } else if failure.entry.httpStatus == 401 {
            response.headers[.wwwAuthenticate] = #"Bearer realm="troupe""#
        }
        return response
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.canonicalText + "\n")))
    }
}
