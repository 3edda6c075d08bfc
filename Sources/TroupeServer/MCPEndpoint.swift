import Foundation
import Hummingbird
import MCP
import NIOCore
import ServiceLifecycle
import TroupeCore

/// MCP over streamable HTTP at `/mcp`: Hummingbird's side of the SDK's
/// `StatefulHTTPServerTransport`, one per session (``MCPSessions``).
///
/// ```
/// POST   /mcp    a JSON-RPC message; an initialize without Mcp-Session-Id opens a session
/// GET    /mcp    the session's stream of server-sent events, for what the server starts
/// DELETE /mcp    ends the session
/// ```
///
/// The caller is ``AccessMiddleware``'s, as on every route: with keys, each request brings one,
/// and a session answers only the principal that opened it (anyone else gets the 404 of an
/// unknown session). A POST's answer is a stream of server-sent events, or one JSON object for a
/// client that accepts only `application/json`. Failures here are JSON-RPC error objects, as the
/// transport's own are: `{"jsonrpc": "2.0", "error": {"code", "message"}, "id": null}`.
struct MCPEndpoint: Sendable {
    let sessions: MCPSessions
    let keysRequired: Bool

    func register(_ router: Router<APIContext>) {
        router.post("mcp") { request, context in try await answer(request, context) }
        router.get("mcp") { request, context in try await answer(request, context) }
        router.delete("mcp") { request, context in try await answer(request, context) }
    }

    func answer(_ request: Hummingbird.Request, _ context: APIContext) async throws -> Hummingbird.Response {
        let message: MCP.HTTPRequest
        do { message = try await Self.message(request) } catch {
            return Self.refusal(413, "the body is larger than \(APIRoutes.maxBody) bytes")
        }
        let asJSON = !Self.accepts(request, "text/event-stream")
        guard let id = request.headers[.init(MCP.HTTPHeaderName.sessionID)!] else {
            guard request.method == .post, Self.isInitialize(message.body) else {
                return Self.refusal(400, "Bad Request: Mcp-Session-Id header is required; a session starts with initialize")
            }
            let answer = await sessions.open(message, caller: context.caller, checkHost: !keysRequired)
            return try await response(answer, session: nil, asJSON: asJSON)
        }
        guard let transport = await sessions.transport(id, for: context.caller.principal) else {
            return Self.refusal(404, "Not Found: no such session")
        }
        let answer = await transport.handleRequest(message)
        if request.method == .delete, answer.statusCode == 200 { await sessions.close(id) }
        return try await response(answer, session: id, asJSON: asJSON && request.method == .post, standing: request.method == .get)
    }

    // MARK: Requests

    /// The request as the SDK's transport takes it: repeated headers joined with commas.
    static func message(_ request: Hummingbird.Request) async throws -> MCP.HTTPRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        var request = request
        let body = try await request.collectBody(upTo: APIRoutes.maxBody)
        return MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers, body: body.readableBytes > 0 ? Data(buffer: body) : nil, path: request.uri.path)
    }

    /// Whether `body` is a JSON-RPC `initialize` request.
    static func isInitialize(_ body: Data?) -> Bool {
        guard let body, case .object(let object)? = try? JSONValue.parse(Array(body)) else { return false }
        return object["method"] == .string("initialize") && object["id"] != nil
    }

    /// Whether the request's Accept header names `type`.
    static func accepts(_ request: Hummingbird.Request, _ type: String) -> Bool {
        request.headers[values: .accept].contains { $0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(type) } }
    }

    // MARK: Responses

    /// The transport's answer as Hummingbird's. A stream is passed on as it comes, or, for a
    /// client that takes JSON alone, read to its end and answered with its one JSON-RPC message.
    /// A POST's stream ends with its response; the `standing` one of a GET only with its session,
    /// so it also ends on graceful shutdown, which would otherwise wait for it for ever.
    func response(_ answer: MCP.HTTPResponse, session: String?, asJSON: Bool, standing: Bool = false) async throws -> Hummingbird.Response {
        guard case .stream(let events, _) = answer else { return Self.response(answer) }
        var headers = Self.headers(answer)
        guard !asJSON else {
            // The SDK's request streams carry a priming event, then the response, which ends them.
            var last: Data?
            for try await event in events { last = Self.data(ofEvent: event) ?? last }
            if let session { await sessions.touch(session) }
            guard let last else { return Self.refusal(404, "Not Found: the session ended") }
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: last)))
        }
        let sessions = sessions
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                if standing {
                    for try await event in events.cancelOnGracefulShutdown() { try await writer.write(ByteBuffer(bytes: event)) }
                } else {
                    for try await event in events { try await writer.write(ByteBuffer(bytes: event)) }
                }
                if let session { await sessions.touch(session) }
                try await writer.finish(nil)
            })
    }

    /// A refusal of the endpoint's own, as the transport words its: a JSON-RPC "invalid request"
    /// error object, in canonical JSON (an unknown session and another key's read the same, byte for byte).
    static func refusal(_ status: Int, _ message: String) -> Hummingbird.Response {
        let error: JSONValue = .object(["code": .number(-32600), "message": .string("Invalid Request: " + message)])
        return APIRoutes.json(.object(["jsonrpc": .string("2.0"), "error": error, "id": .null]), status: .init(code: status))
    }

    /// An answer with its whole body at hand.
    static func response(_ answer: MCP.HTTPResponse) -> Hummingbird.Response {
        Response(status: .init(code: answer.statusCode), headers: headers(answer), body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
    }

    static func headers(_ answer: MCP.HTTPResponse) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
            fields[.init(name)!] = value  // the SDK's header names are all valid
        }
        return fields
    }

    /// The data of one server-sent event as the SDK formats it (`id:`, `event:`, `data:` lines),
    /// or nil for an event without any (the priming event).
    static func data(ofEvent event: Data) -> Data? {
        let lines = String(decoding: event, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("data:") }
        let data = lines.map { $0.dropFirst(5).drop { $0 == " " } }.joined(separator: "\n")
        return data.isEmpty ? nil : Data(data.utf8)
    }
}
