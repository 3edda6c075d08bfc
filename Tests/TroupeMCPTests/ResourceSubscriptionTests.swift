import Foundation
import MCP
import Testing
import TroupeCore
import TroupeMCP
import TroupeService
import TroupeServiceTestSupport
import TroupeStoreConformance

/// Resources subscribed to, and the `notifications/resources/updated` their writes send, driven
/// by the SDK's own client over an in-memory transport pair.
///
/// Updates come in the order of the writes that cause them, so "no update for that write" is
/// proved by order: a later write to a subscribed resource is the next update the client gets.
@Suite("MCP resource subscriptions")
struct ResourceSubscriptionTests {
    static let semantic = "troupe://persona/athena/semantic"
    static let team = "troupe://shared/team"

    @Test func aSubscribedSliceIsUpdatedByItsWritesAndByNoOthers() async throws {
        try await MCPFixture.with { mcp in
            let updates = await ResourceUpdates(mcp.client)
            try await mcp.client.subscribeToResource(uri: Self.semantic)
            try await mcp.client.subscribeToResource(uri: Self.team)

            _ = try await mcp.service.remember(persona: "athena", content: "The boiler is serviced in October.", in: .slice(.semantic), .local)
            #expect(await updates.next() == Self.semantic)
            // Another persona's slice and another slice of athena's: no update for either.
            _ = try await mcp.service.remember(persona: "hestia", content: "The plants are watered on Sundays.", in: .slice(.semantic), .local)
            _ = try await mcp.service.remember(persona: "athena", content: "Met the plumber today.", in: .slice(.episodic), .local)
            _ = try await mcp.service.remember(persona: "athena", content: "The team meets on Mondays.", in: .shared("team"), .local)
            #expect(await updates.next() == Self.team)
            // An update, and a forget, are changes too.
            let roof = try await mcp.service.remember(persona: "athena", content: "The roof is checked in April.", in: .slice(.semantic), .local)
            #expect(await updates.next() == Self.semantic)
            _ = try await mcp.service.forget(id: roof.id, persona: "athena", .local)
            #expect(await updates.next() == Self.semantic)
        }
    }

    @Test func anUnsubscribedSliceIsUpdatedNoMore() async throws {
        try await MCPFixture.with { mcp in
            let updates = await ResourceUpdates(mcp.client)
            try await mcp.client.subscribeToResource(uri: Self.semantic)
            try await mcp.client.subscribeToResource(uri: Self.team)
            try await updates.unsubscribe(Self.semantic)

            _ = try await mcp.service.remember(persona: "athena", content: "The boiler is serviced in October.", in: .slice(.semantic), .local)
            _ = try await mcp.service.remember(persona: "athena", content: "The team meets on Mondays.", in: .shared("team"), .local)
            #expect(await updates.next() == Self.team)
            // Subscribed again, it is updated again.
            try await mcp.client.subscribeToResource(uri: Self.semantic)
            _ = try await mcp.service.remember(persona: "athena", content: "The roof is checked in April.", in: .slice(.semantic), .local)
            #expect(await updates.next() == Self.semantic)
        }
    }

    @Test func aClientSubscribesOnlyToWhatItMayReadAndHearsOfNothingElse() async throws {
        try await MCPFixture.with(principal: .client("key-hestia", personas: ["hestia"])) { mcp in
            let updates = await ResourceUpdates(mcp.client)
            for uri in [Self.semantic, "troupe://persona/zeus/semantic", "troupe://shared/no-such-slice", "troupe://persona/hestia/attic", "https://example.com"] {
                await #expect(throws: (any Error).self, "\(uri)") { try await mcp.client.subscribeToResource(uri: uri) }
            }
            // Denied the same whether the persona exists or not.
            let athena = await Self.failure { try await mcp.client.subscribeToResource(uri: Self.semantic) }
            let zeus = await Self.failure { try await mcp.client.subscribeToResource(uri: "troupe://persona/zeus/semantic") }
            #expect(athena.contains("denied") && athena.replacingOccurrences(of: "'athena'", with: "'zeus'") == zeus, "\(athena) / \(zeus)")

            let hestia = "troupe://persona/hestia/semantic"
            try await mcp.client.subscribeToResource(uri: hestia)
            try await mcp.client.subscribeToResource(uri: Self.team)
            _ = try await mcp.service.remember(persona: "athena", content: "Athena's private note.", in: .slice(.semantic), .local)
            _ = try await mcp.service.remember(persona: "athena", content: "The team meets on Mondays.", in: .shared("team"), .local)
            #expect(await updates.next() == Self.team)
            _ = try await mcp.service.remember(persona: "hestia", content: "The plants are watered on Sundays.", in: .slice(.semantic), .local)
            #expect(await updates.next() == hestia)
        }
    }

    @Test func sharedSlicesAreListedAndReadForTheirMembersOnly() async throws {
        try await MCPFixture.with(principal: .client("key-hestia", personas: ["hestia"])) { mcp in
            let stored = try await mcp.service.remember(persona: "athena", content: "The team meets on Mondays.", in: .shared("team"), .local)
            let (resources, _) = try await mcp.client.listResources()
            #expect(resources.map(\.uri).filter { $0.hasPrefix("troupe://shared/") } == [Self.team])
            let contents = try await mcp.client.readResource(uri: Self.team)
            let text = try #require(contents.first?.text, "\(contents)")
            #expect(try JSONValue.parse(Array(text.utf8)).items.compactMap { $0["id"]?.text } == [stored.id])
        }
        try await MCPFixture.with(principal: .client("key-nobody", personas: ["zeus"])) { mcp in
            let (resources, _) = try await mcp.client.listResources()
            #expect(resources.isEmpty)
            await #expect(throws: (any Error).self) { _ = try await mcp.client.readResource(uri: Self.team) }
        }
    }

    @Test func theSubscriptionsEndWithTheSession() async throws {
        try await MCPFixture.with { mcp in
            let before = mcp.home.runtime.events.count
            try await mcp.client.subscribeToResource(uri: Self.semantic)
            try await mcp.client.subscribeToResource(uri: Self.team)
            #expect(mcp.home.runtime.events.count == before + 1, "one event stream for the session")
            await mcp.server.stop()
            #expect(await eventually(60) { mcp.home.runtime.events.count == before }, "the session's event stream outlived it")
        }
    }

    /// The message of the error `body` throws.
    static func failure(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }
}

/// The URIs of the resource updates a client is sent, in order.
struct ResourceUpdates {
    let client: Client
    let uris: AsyncStream<String>

    init(_ client: Client) async {
        let (uris, sink) = AsyncStream.makeStream(of: String.self)
        await client.onNotification(ResourceUpdatedNotification.self) { sink.yield($0.params.uri) }
        (self.client, self.uris) = (client, uris)
    }

    /// The next update's URI, or nil if none comes within `seconds`: a guard against a hang, not
    /// a timing check (a sent update arrives in milliseconds).
    func next(within seconds: Int = 60) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var iterator = uris.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// `resources/unsubscribe`, which the SDK's client has no method for.
    func unsubscribe(_ uri: String) async throws {
        let parameters = try JSONDecoder().decode(ResourceUnsubscribe.Parameters.self, from: Data(JSONValue.object(["uri": .string(uri)]).canonicalText.utf8))
        _ = try await client.send(ResourceUnsubscribe.request(parameters)).value
    }
}
