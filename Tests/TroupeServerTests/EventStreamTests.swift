import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport

/// `GET /v1/events`: the write path's events, streamed to subscribers as they happen.
@Suite("Event stream")
struct EventStreamTests {
    typealias API = HTTPAPITests

    /// Subscribes with `key`, then runs `act`; the events that came, parsed, up to the first
    /// that `last` accepts.
    static func events(
        _ call: API.Caller, key: String, until last: @escaping @Sendable (JSONValue) -> Bool, after act: @Sendable () async throws -> Void
    ) async throws -> [JSONValue] {
        let (subscribed, signal) = AsyncStream.makeStream(of: Void.self)
        let reader = Task { () -> [JSONValue] in
            var request = HTTPClientRequest(url: call.base + "/v1/events")
            request.headers.add(name: "authorization", value: "Bearer \(key)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
            guard response.status == .ok else { throw TroupeError(.denied, "events answered \(response.status.code)") }
            var seen = "", events: [JSONValue] = []
            for try await chunk in response.body {
                seen += String(buffer: chunk)
                if seen.contains(": subscribed") { signal.yield() }
                while let end = seen.range(of: "\n\n") {
                    let block = seen[..<end.lowerBound]
                    seen = String(seen[end.upperBound...])
                    if let data = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) {
                        let event = try JSONValue.parse(Array(data.dropFirst(6).utf8))
                        events.append(event)
                        if last(event) { return events }
                    }
                }
            }
            return events
        }
        var subscriptions = subscribed.makeAsyncIterator()
        await subscriptions.next()
        try await act()
        return try await reader.value
    }

    @Test func writesUpdatesAndForgetsAreStreamedWithoutTheirContent() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let admin = try await home.service.createKey(KeyGrant(role: .operator), .local).text
            // Other writes may come between (athena's procedural seeds, on first use): the memory's own are read.
            let all = try await Self.events(call, key: admin, until: { $0["kind"]?.text == "forgotten" }) {
                let added = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The boiler is serviced in October."}"#, key: admin)
                let id = added.json["id"]?.text ?? "?"
                _ = try await call("PATCH", "/v1/personas/athena/memories/\(id)", #"{"base_version": 1, "content": "The boiler is serviced in November."}"#, key: admin)
                _ = try await call("DELETE", "/v1/personas/athena/memories/\(id)", nil, key: admin)
            }
            let id = all.last?["id"]?.text
            let events = all.filter { $0["id"]?.text == id }
            #expect(events.map { $0["kind"]?.text } == ["written", "superseded", "forgotten"], "\(all)")
            #expect(events.map { $0["version"] } == [.number(1), .number(2), .number(2)])
            #expect(Set(events.compactMap { $0["id"]?.text }).count == 1 && events.allSatisfy { $0["owner"]?.text == "athena" })
            #expect(!events.map(\.canonicalText).joined().contains("boiler"), "an event never carries content")
        }
    }

    @Test func aClientSeesOnlyItsPersonasAndTheirSharedSlices() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let hestia = try await home.service.createKey(KeyGrant(role: .client, personas: ["hestia"]), .local).text
            let events = try await Self.events(call, key: hestia, until: { $0["owner"]?.text == "hestia" }) {
                _ = try await home.service.remember(persona: "athena", content: "Athena's own note.", in: .slice(.semantic), .local)
                _ = try await home.service.remember(persona: "athena", content: "For the whole team.", in: .shared("team"), .local)
                _ = try await home.service.remember(persona: "hestia", content: "Hestia's own note.", in: .slice(.semantic), .local)
            }
            // athena's own note is not among them; the team's (hestia belongs to it) and hestia's are.
            #expect(events.filter { $0["slice"]?.text == "semantic" }.map { $0["owner"]?.text } == ["team", "hestia"], "\(events)")
        }
    }
}
