import Foundation
import Hummingbird
import NIOCore
import TroupeCore
import TroupeRuntime
import TroupeService

/// The HTTP API's routes: thin, each one operation of the service layer, answering with the
/// CLI's `--json` shapes. A failure is `{"error": {"code", "message", "field"?}}` with the status
/// the error table gives (400 for a bad argument or body, 403 denied, 404 not found, 409 conflict).
///
/// ```
/// GET    /healthz
/// GET    /v1/personas                          personas list --json
/// GET    /v1/personas/:persona                 personas show --json
/// POST   /v1/personas/:persona/recall          {query, limit?, slices?, why?}   memory recall --json
/// POST   /v1/personas/:persona/memories        {content, slice | shared, importance?, tags?}   201, memory add --json
/// PATCH  /v1/personas/:persona/memories/:id    {base_version, content?, importance?, tags?}   memory update --json
/// DELETE /v1/personas/:persona/memories/:id    ?reason=…   memory forget --json
/// GET    /v1/personas/:persona/memories/:id/history        memory history --json
/// POST   /v1/personas/:persona/say             {message, conversation?}   chat --json (without the prompt)
/// ```
public struct APIRoutes: Sendable {
    public let service: TroupeService
    /// The largest request body read (1 MiB); a larger one is refused with 413.
    static let maxBody = 1 << 20

    public init(service: TroupeService) { self.service = service }

    public func router() -> Router<APIContext> {
        let service = service
        let router = Router(context: APIContext.self)
        router.get("healthz") { _, _ in Self.json(.object(["status": .string("ok")])) }
        let v1 = router.group("v1/personas")
        v1.get { _, context in
            try await Self.respond { .array(try await service.personas(context.caller).map(JSONView.persona)) }
        }
        v1.get(":persona") { _, context in
            try await Self.respond { JSONView.persona(try await service.persona(try context.parameters.require("persona"), context.caller)) }
        }
        v1.post(":persona/recall") { request, context in
            try await Self.respond {
                var arguments = try await Self.body(request, context)
                if arguments["why"] == nil { arguments["why"] = .bool(true) }  // as --json: every component
                let answer = try await service.call(.recall, arguments, context.caller)
                if case .object(let object) = answer, let results = object["results"] { return results }
                return answer
            }
        }
        v1.post(":persona/memories") { request, context in
            try await Self.respond(status: .created) { try await service.call(.remember, try await Self.body(request, context), context.caller) }
        }
        v1.patch(":persona/memories/:id") { request, context in
            try await Self.respond { try await service.call(.update, try await Self.body(request, context, id: true), context.caller) }
        }
        v1.delete(":persona/memories/:id") { request, context in
            try await Self.respond {
                var arguments = try Self.pathArguments(context, id: true)
                if let reason = request.uri.queryParameters["reason"] { arguments["reason"] = .string(String(reason)) }
                return try await service.call(.forget, arguments, context.caller)
            }
        }
        v1.get(":persona/memories/:id/history") { _, context in
            try await Self.respond { try await service.call(.history, try Self.pathArguments(context, id: true), context.caller) }
        }
        v1.post(":persona/say") { request, context in
            try await Self.respond { try await service.call(.say, try await Self.body(request, context), context.caller) }
        }
        return router
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
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: maxBody) } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(maxBody) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty, case .object(var arguments) = try? JSONValue.parse(bytes) else {
            throw TroupeError(.invalidInput, "the body must be a JSON object")
        }
        for (name, value) in try pathArguments(context, id: id) { arguments[name] = value }
        return arguments
    }

    // MARK: Responses

    /// Runs `body` and answers with its JSON, or with the error's status and message.
    static func respond(status: HTTPResponse.Status = .ok, _ body: () async throws -> JSONValue) async throws -> Response {
        do {
            return Self.json(try await body(), status: status)
        } catch let error as HTTPError {
            // The transport's own refusals (a body too large), in the same shape.
            let message = error.body ?? error.status.reasonPhrase
            return Self.json(.object(["error": .object(["code": .string("too-large"), "message": .string(message)])]), status: error.status)
        } catch {
            let failure = TroupeService.failure(error)
            var object: [String: JSONValue] = ["code": .string(failure.entry.name), "message": .string(failure.message)]
            if let field = failure.field, !field.isEmpty { object["field"] = .string(field) }
            return Self.json(.object(["error": .object(object)]), status: HTTPResponse.Status(code: failure.entry.httpStatus))
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.canonicalText + "\n")))
    }
}
