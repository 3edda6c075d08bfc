import AsyncHTTPClient
import Foundation
import MCP
import NIOCore
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport
import TroupeStoreConformance

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// MCP over streamable HTTP at `/mcp`, driven by the SDK's own client on a real loopback socket,
/// keys required.
@Suite("MCP over HTTP")
struct MCPHTTPTests {
    typealias API = HTTPAPITests

    /// A client of `/mcp` with `key`. It asks for JSON answers: on Linux the SDK's client cannot
    /// read a stream of server-sent events (it hands the raw text on as one message).
    static func connect(_ call: API.Caller, key: String) async throws -> (Client, HTTPClientTransport) {
        let transport = HTTPClientTransport(
            endpoint: URL(string: call.base + "/mcp")!, streaming: false,
            requestModifier: { request in
                var request = request
                request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
                request.setValue("application/json", forHTTPHeaderField: "Accept")
                return request
            })
        let client = Client(name: "troupe-tests", version: "1")
        let initialized = try await client.connect(transport: transport)
        #expect(initialized.serverInfo.name == "troupe")
        return (client, transport)
    }

    /// A request to `/mcp` with the headers an MCP client sends: its status, content type and body.
    static func raw(
        _ call: API.Caller, _ method: String, session: String?, key: String?, body: String? = nil, accept: String = "application/json, text/event-stream"
    ) async throws -> (status: Int, type: String, body: String) {
        let answer = try await call(method, "/mcp", body, key: key, headers: [("accept", accept)] + (session.map { [("mcp-session-id", $0)] } ?? []))
        return (answer.status, answer.headers.first(name: "content-type") ?? "", answer.text)
    }

    static let listTools = #"{"jsonrpc": "2.0", "id": 7, "method": "tools/list"}"#

    @Test func aClientKeysSessionRemembersRecallsAndReachesOnlyItsPersonas() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let athena = try await home.service.createKey(KeyGrant(role: .client, personas: ["athena"]), .local).text
            let admin = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            let secret = "Hestia's note: the spare key is under the blue pot."
            _ = try await home.service.remember(persona: "hestia", content: secret, in: .slice(.semantic), .local)

            let (client, transport) = try await Self.connect(call, key: athena)
            let (tools, _) = try await client.listTools()
            #expect(Set(tools.map(\.name)).isSuperset(of: ["list_personas", "recall", "remember", "say"]))
            let (stored, storeFailed) = try await client.toolText("remember", ["persona": "athena", "slice": "semantic", "content": "The roof is checked every April."])
            #expect(!storeFailed, "\(stored)")
            let (recalled, recallFailed) = try await client.toolText("recall", ["persona": "athena", "query": "when is the roof checked"])
            #expect(!recallFailed && recalled.contains("The roof is checked every April."), "\(recalled)")
            // The session acts as the key that opened it: hestia is out of reach.
            let (denied, isError) = try await client.toolText("recall", ["persona": "hestia", "query": "spare key"])
            #expect(isError && denied.hasPrefix("denied:") && !denied.contains("blue pot"), "\(denied)")
            let (listed, _) = try await client.toolText("list_personas", [:])
            #expect(listed.contains("athena") && !listed.contains("hestia"), "\(listed)")

            let session = try #require(await transport.sessionID)
            // Another key, even an admin's, cannot use the session: the 404 of an unknown one.
            let stolen = try await Self.raw(call, "POST", session: session, key: admin, body: Self.listTools)
            let unknown = try await Self.raw(call, "POST", session: "no-such-session", key: admin, body: Self.listTools)
            #expect(stolen.status == 404 && stolen.body == unknown.body, "\(stolen)")
            #expect(try await Self.raw(call, "POST", session: session, key: nil, body: Self.listTools).status == 401)
            // Its own key, accepting server-sent events, gets the answer as a stream.
            let streamed = try await Self.raw(call, "POST", session: session, key: athena, body: Self.listTools)
            #expect(streamed.status == 200 && streamed.type.hasPrefix("text/event-stream") && streamed.body.contains(#""id":7"#), "\(streamed)")

            // DELETE ends it: its client is told the session is gone.
            #expect(try await Self.raw(call, "DELETE", session: session, key: admin).status == 404)
            #expect(try await Self.raw(call, "DELETE", session: session, key: athena).status == 200)
            #expect(await call.mcp.count == 0)
            await #expect(throws: (any Error).self) { _ = try await client.listTools() }
            #expect(try await Self.raw(call, "POST", session: session, key: athena, body: Self.listTools).status == 404)
            await client.disconnect()
        }
    }

    @Test func anIdleSessionExpiresAndABusyOneStays() async throws {
        let clock = ManualClock()
        try await API.withAPI(keysRequired: true, sessions: { MCPSessions(service: $0, clock: clock) }) { home, call in
            let key = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            let (idle, idleTransport) = try await Self.connect(call, key: key)
            let (busy, _) = try await Self.connect(call, key: key)
            let session = try #require(await idleTransport.sessionID)
            let streams = home.runtime.events.count
            try await idle.subscribeToResource(uri: "troupe://persona/athena/semantic")
            clock.advance(by: 20 * 60)
            _ = try await busy.listTools()
            clock.advance(by: 20 * 60)
            // 40 minutes since the idle one's last request, 20 since the busy one's.
            #expect(await call.mcp.sweep() == 1)
            #expect(await call.mcp.count == 1)
            #expect(await eventually(60) { home.runtime.events.count == streams }, "the expired session's subscription lives on")
            _ = try await busy.listTools()
            await #expect(throws: (any Error).self) { _ = try await idle.listTools() }
            #expect(try await Self.raw(call, "POST", session: session, key: key, body: Self.listTools).status == 404)
            await idle.disconnect()
            await busy.disconnect()
        }
    }

    /// A subscribed session is told of updates on its stream of server-sent events (GET), and
    /// its subscription ends with it.
    @Test func aSubscribedSessionHearsOfUpdatesOnItsStreamUntilItEnds() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let key = try await home.service.createKey(KeyGrant(role: .client, personas: ["athena"]), .local).text
            let streams = home.runtime.events.count
            let (client, transport) = try await Self.connect(call, key: key)
            let session = try #require(await transport.sessionID)
            let uri = "troupe://persona/athena/semantic"
            try await client.subscribeToResource(uri: uri)
            #expect(home.runtime.events.count == streams + 1)

            var request = HTTPClientRequest(url: call.base + "/mcp")
            request.headers.add(name: "accept", value: "text/event-stream")
            request.headers.add(name: "mcp-session-id", value: session)
            request.headers.add(name: "authorization", value: "Bearer \(key)")
            // Its head came: the session's stream is open, and what is sent from now on is on it.
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            #expect(response.status == .ok)
            _ = try await home.service.remember(persona: "athena", content: "The boiler is serviced in October.", in: .slice(.semantic), .local)
            let events = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    var text = ""
                    for try await chunk in response.body {
                        text += String(buffer: chunk)
                        if text.contains("notifications/resources/updated") { break }
                    }
                    return text
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))  // a guard against a hang only
                    return "no update within 60 s"
                }
                let first = try await group.next() ?? ""
                group.cancelAll()
                return first
            }
            #expect(events.contains(#""method":"notifications/resources/updated""#) && events.contains(#""uri":"\#(uri)""#), "\(events)")

            #expect(try await Self.raw(call, "DELETE", session: session, key: key).status == 200)
            #expect(await eventually(60) { home.runtime.events.count == streams }, "the closed session's subscription lives on")
            await client.disconnect()
        }
    }

    @Test func pastTheLimitTheLongestUnusedSessionGoes() async throws {
        let clock = ManualClock()
        try await API.withAPI(keysRequired: true, sessions: { MCPSessions(service: $0, limit: 2, clock: clock) }) { home, call in
            let key = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            let (first, firstTransport) = try await Self.connect(call, key: key)
            clock.advance(by: 60)
            let (second, secondTransport) = try await Self.connect(call, key: key)
            let firstSession = try #require(await firstTransport.sessionID), secondSession = try #require(await secondTransport.sessionID)
            clock.advance(by: 60)
            _ = try await first.listTools()  // now the second is the one unused longest
            clock.advance(by: 60)
            let (third, _) = try await Self.connect(call, key: key)
            #expect(await call.mcp.count == 2)
            #expect(try await Self.raw(call, "POST", session: secondSession, key: key, body: Self.listTools).status == 404)
            #expect(try await Self.raw(call, "POST", session: firstSession, key: key, body: Self.listTools).status == 200)
            _ = try await third.listTools()
            for client in [first, second, third] { await client.disconnect() }
        }
    }

    @Test func shutdownEndsAnOpenEventStreamAndClosesTheSessions() async throws {
        let open = LockedBox<(Task<ByteBuffer, any Error>, MCPSessions)?>(nil)
        try await API.withAPI(keysRequired: true) { home, call in
            let key = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            let (client, transport) = try await Self.connect(call, key: key)
            var request = HTTPClientRequest(url: call.base + "/mcp")
            request.headers.add(name: "accept", value: "text/event-stream")
            request.headers.add(name: "mcp-session-id", value: try #require(await transport.sessionID))
            request.headers.add(name: "authorization", value: "Bearer \(key)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            #expect(response.status == .ok && response.headers.first(name: "content-type") == "text/event-stream")
            open.withLock { $0 = (Task { try await response.body.collect(upTo: 1 << 20) }, call.mcp) }
            _ = client
        }
        // withAPI returned: the server stopped although the stream was open, and the stream ended
        // cleanly (not at the client's deadline, which would throw) after its priming event.
        let (stream, sessions) = try #require(open.value)
        let events = String(buffer: try await stream.value)
        #expect(events.hasPrefix("id: "), "\(events)")
        #expect(await sessions.count == 0)
    }

    @Test func refusalsAreJSONRPCErrors() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let key = try await home.service.createKey(KeyGrant(role: .admin), .local).text
            // Not an initialize, and no session: nothing is opened.
            let orphan = try await Self.raw(call, "POST", session: nil, key: key, body: Self.listTools)
            #expect(orphan.status == 400 && orphan.body.contains(#""jsonrpc":"2.0""#), "\(orphan)")
            // An initialize from a client that takes neither JSON nor events: the transport's 406.
            let initialize = #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}"#
            let refused = try await Self.raw(call, "POST", session: nil, key: key, body: initialize, accept: "text/html")
            #expect(refused.status == 406, "\(refused)")
            #expect(await call.mcp.count == 0)
        }
    }
}
