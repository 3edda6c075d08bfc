import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport

/// The HTTP API on a real loopback socket (port 0: a free one), called with AsyncHTTPClient.
@Suite("HTTP API")
struct HTTPAPITests {
    struct Answer {
        var status: Int
        var json: JSONValue
        var headers: HTTPHeaders
        /// The body as text (a stream of server-sent events is not JSON).
        var text: String
    }

    /// Calls the API at `base`, with a key when given one, and any other `headers`.
    struct Caller: Sendable {
        let base: String
        /// The server's MCP sessions, for tests that sweep them.
        let mcp: MCPSessions

        func callAsFunction(_ method: String, _ path: String, _ json: String?, key: String? = nil, headers: [(String, String)] = []) async throws -> Answer {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
            request.headers.add(contentsOf: headers)
            if let json {
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
            }
            // A safety net only: each call takes milliseconds.
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            let parsed = (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? .null
            return Answer(status: Int(response.status.code), json: parsed, headers: response.headers, text: String(buffer: bytes))
        }
    }

    /// Runs `body` with the API listening over a fresh home (through `service`, if given),
    /// asking for keys when `keysRequired`, with the MCP sessions `sessions` makes (by default
    /// the server's own); the server is stopped afterwards.
    static func withAPI(
        keysRequired: Bool = false, service: (@Sendable (ServiceHome) -> TroupeService)? = nil,
        sessions: @Sendable (TroupeService) -> MCPSessions = { MCPSessions(service: $0) },
        _ body: @Sendable (ServiceHome, Caller) async throws -> Void
    ) async throws {
        let home = try await ServiceHome()
        let (bound, listening) = AsyncStream.makeStream(of: TroupeHTTPServer.Listen.self)
        let served = service?(home) ?? home.service
        let mcp = sessions(served)
        let app = TroupeHTTPServer.application(service: served, listen: try TroupeHTTPServer.Listen("127.0.0.1:0"), keysRequired: keysRequired, mcp: mcp) { address in
            listening.yield(address)
            listening.finish()
        }
        // Stopped gracefully (a cancelled server logs its connections' cancellation as errors).
        let services = ServiceGroup(services: [app], logger: Logger(label: "troupe.test"))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                defer { Task { await services.triggerGracefulShutdown() } }
                var addresses = bound.makeAsyncIterator()
                guard let address = await addresses.next() else { throw TroupeError(.unavailable, "the server never listened") }
                try await body(home, Caller(base: "http://\(address)", mcp: mcp))
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }

    @Test func healthAndPersonasAnswerAsTheCLIsJSON() async throws {
        try await Self.withAPI { home, call in
            let health = try await call("GET", "/healthz", nil)
            #expect(health.status == 200 && health.json["status"]?.text == "ok")
            let personas = try await call("GET", "/v1/personas", nil)
            #expect(personas.status == 200 && personas.json.items.compactMap { $0["name"]?.text } == ["athena", "hestia"])
            let athena = try await call("GET", "/v1/personas/athena", nil)
            #expect(athena.json["system_prompt"]?.text == "You are Athena, the team's strategist. Decide in writing.")
            let missing = try await call("GET", "/v1/personas/zeus", nil)
            #expect(missing.status == 404 && missing.json["error"]?["code"]?.text == "not-found")
        }
    }

    @Test func rememberThenRecallUpdateHistoryAndForget() async throws {
        try await Self.withAPI { home, call in
            let added = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The boiler is serviced every October.", "tags": ["ops"]}"#)
            #expect(added.status == 201)
            let id = try #require(added.json["id"]?.text)
            let recalled = try await call("POST", "/v1/personas/athena/recall", #"{"query": "when is the boiler serviced", "limit": 3}"#)
            #expect(recalled.status == 200 && recalled.json.items.first?["id"]?.text == id)
            #expect(recalled.json.items.first?["components"]?["semantic"] != nil)
            let updated = try await call("PATCH", "/v1/personas/athena/memories/\(id)", #"{"base_version": 1, "content": "The boiler is serviced every November."}"#)
            #expect(updated.status == 200 && updated.json["record"]?["version"] == .number(2))
            let stale = try await call("PATCH", "/v1/personas/athena/memories/\(id)", #"{"base_version": 1, "content": "December."}"#)
            #expect(stale.status == 409 && stale.json["error"]?["code"]?.text == "conflict")
            let history = try await call("GET", "/v1/personas/athena/memories/\(id)/history", nil)
            #expect(history.json["versions"]?.items.count == 2)
            let forgotten = try await call("DELETE", "/v1/personas/athena/memories/\(id)?reason=test", nil)
            #expect(forgotten.status == 200 && forgotten.json["reason"]?.text == "test")
            // hestia cannot reach athena's private memory.
            let other = try await call("GET", "/v1/personas/hestia/memories/\(id)/history", nil)
            #expect(other.status == 403 || other.status == 404)
        }
    }

    @Test func badBodiesAre400sNamingTheFieldAndChangeNothing() async throws {
        try await Self.withAPI { home, call in
            let cases: [(String, String, String?)] = [
                ("/v1/personas/athena/recall", #"{"query": "x", "limit": "ten"}"#, "limit"),
                ("/v1/personas/athena/recall", #"{"limit": 3}"#, "query"),
                ("/v1/personas/athena/memories", #"{"content": "x", "slice": "attic"}"#, "slice"),
                ("/v1/personas/athena/memories", #"{"content": "x", "slice": "semantic", "importance": 7}"#, "importance"),
                ("/v1/personas/athena/memories", #"not json"#, nil),
                ("/v1/personas/athena/memories", #"["a list"]"#, nil),
            ]
            for (path, body, field) in cases {
                let answer = try await call("POST", path, body)
                #expect(answer.status == 400, "\(path) \(body)")
                #expect(answer.json["error"]?["field"]?.text == field, "\(path) \(body): \(answer.json)")
            }
            let huge = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": ""# + String(repeating: "x", count: 2 << 20) + #""}"#)
            #expect(huge.status == 413 && huge.json["error"]?["code"]?.text == "too-large")
            #expect(try await home.service.records(persona: "athena", slice: .semantic, .local).isEmpty)
        }
    }

    @Test func sayAnswersAndResumesAConversation() async throws {
        try await Self.withAPI { _, call in
            let first = try await call("POST", "/v1/personas/hestia/say", #"{"message": "Hello, who looks after the plants?"}"#)
            #expect(first.status == 200 && first.json["turn"] == .number(1))
            let id = try #require(first.json["conversation"]?.text)
            let second = try await call("POST", "/v1/personas/hestia/say", #"{"message": "And on which day?", "conversation": "\#(id)"}"#)
            #expect(second.json["turn"] == .number(2) && second.json["conversation"]?.text == id)
        }
    }

    @Test func onlyLoopbackAddressesAreAccepted() throws {
        #expect(try TroupeHTTPServer.Listen("127.0.0.1:7420").port == 7420)
        #expect(try TroupeHTTPServer.Listen("[::1]:0").host == "::1")
        #expect(try TroupeHTTPServer.Listen("localhost:80").host == "127.0.0.1")
        for refused in ["0.0.0.0:7420", "192.168.1.4:7420", "example.com:80", "127.0.0.1", "127.0.0.1:99999", "[::]:7420"] {
            #expect(throws: TroupeError.self, "\(refused)") { try TroupeHTTPServer.Listen(refused) }
        }
    }
}
