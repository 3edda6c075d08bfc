import Foundation
import MCP
import Testing
import TroupeCore
import TroupeMCP
import TroupeService
import TroupeServiceTestSupport

/// The MCP memory server's tools on a persona's knowledge graph (`troupe mcp --memory-graph`),
/// through the SDK's client: the server's shapes and semantics, pages of read_graph, and two
/// clients writing at once losing nothing.
@Suite("MCP memory-graph tools")
struct MemoryGraphToolTests {
    /// Clients of `count` servers over one home, each offering athena's graph.
    static func with(clients count: Int = 1, _ body: ([Client], ServiceHome) async throws -> Void) async throws {
        let home = try await ServiceHome()
        var pairs: [(Client, Server)] = []
        for i in 0..<count {
            let server = await TroupeMCPServer(service: home.service, memoryGraph: "athena").makeServer()
            let client = Client(name: "graph-\(i)", version: "1")
            let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
            try await server.start(transport: serverSide)
            try await client.connect(transport: clientSide)
            pairs.append((client, server))
        }
        func stop() async {
            for (client, server) in pairs {
                await client.disconnect()
                await server.stop()
            }
            await home.stop()
        }
        do { try await body(pairs.map(\.0), home) } catch {
            await stop()
            throw error
        }
        await stop()
    }

    static func json(_ client: Client, _ tool: String, _ arguments: [String: Value]) async throws -> JSONValue {
        let (text, isError) = try await client.toolText(tool, arguments)
        guard !isError else { throw TroupeError(.invalidInput, "\(tool) failed: \(text)") }
        return try JSONValue.parse(Array(text.utf8))
    }

    static func entity(_ name: String, _ type: String, _ observations: [String]) -> Value {
        .object(["name": .string(name), "entityType": .string(type), "observations": .array(observations.map(Value.string))])
    }

    static func relation(_ from: String, _ type: String, _ to: String) -> Value {
        .object(["from": .string(from), "to": .string(to), "relationType": .string(type)])
    }

    static func names(_ graph: JSONValue) -> [String] { graph["entities"]?.items.compactMap { $0["name"]?.text } ?? [] }

    @Test func theServersToolsWithItsShapesAndSemantics() async throws {
        try await Self.with { clients, _ in
            let c = clients[0]
            let tools = try await c.listTools().tools.map(\.name)
            #expect(Set(["create_entities", "create_relations", "add_observations", "delete_entities", "delete_observations", "delete_relations",
                         "read_graph", "search_nodes", "open_nodes"]).isSubset(of: Set(tools)))

            let created = try await Self.json(c, "create_entities", ["entities": .array([
                Self.entity("John_Smith", "person", ["Speaks fluent Spanish"]), Self.entity("Anthropic", "organization", []),
            ])])
            #expect(created.items.count == 2)
            let again = try await Self.json(c, "create_entities", ["entities": .array([Self.entity("John_Smith", "robot", []), Self.entity("Lyon", "city", [])])])
            #expect(Self.names(.object(["entities": again])) == ["Lyon"], "an existing name is not created again")
            _ = try await Self.json(c, "create_relations", ["relations": .array([
                Self.relation("John_Smith", "works_at", "Anthropic"), Self.relation("John_Smith", "lives_in", "Lyon"),
            ])])
            let added = try await Self.json(c, "add_observations", ["observations": .array([
                .object(["entityName": "John_Smith", "contents": .array(["Speaks fluent Spanish", "Graduated in 2019"])]),
            ])])
            #expect(added.items.first?["addedObservations"] == .array([.string("Graduated in 2019")]))
            let missing = try await c.toolText("add_observations", ["observations": .array([.object(["entityName": "Nobody", "contents": .array(["x"])])])])
            #expect(missing.isError && missing.text.contains("Entity with name Nobody not found"))
            let bad = try await c.toolText("create_entities", ["entities": .array([.object(["name": "X", "entityType": "t"])])])
            #expect(bad.isError && bad.text.contains("entities[0].observations"), "\(bad.text)")

            let opened = try await Self.json(c, "open_nodes", ["names": .array(["John_Smith"])])
            #expect(Self.names(opened) == ["John_Smith"])
            #expect(opened["entities"]?.items.first?["observations"] == .array([.string("Speaks fluent Spanish"), .string("Graduated in 2019")]))
            #expect(opened["relations"]?.items.count == 2, "relations with one end among the nodes")
            let searched = try await Self.json(c, "search_nodes", ["query": "SPANISH"])
            #expect(Self.names(searched) == ["John_Smith"])

            _ = try await c.toolText("delete_observations", ["deletions": .array([.object(["entityName": "John_Smith", "observations": .array(["Graduated in 2019"])])])])
            _ = try await c.toolText("delete_relations", ["relations": .array([Self.relation("John_Smith", "lives_in", "Lyon")])])
            let deleted = try await c.toolText("delete_entities", ["entityNames": .array(["Anthropic"])])
            #expect(deleted.text == "Entities deleted successfully")
            let graph = try await Self.json(c, "read_graph", [:])
            #expect(Set(Self.names(graph)) == ["John_Smith", "Lyon"])
            #expect(graph["relations"]?.items.isEmpty == true, "works_at went with Anthropic, lives_in was deleted")
            #expect(graph["entities"]?.items.first { $0["name"]?.text == "John_Smith" }?["observations"] == .array([.string("Speaks fluent Spanish")]))
        }
    }

    @Test func readGraphInPagesGivesEveryEntityAndRelationOnce() async throws {
        try await Self.with { clients, _ in
            let c = clients[0]
            _ = try await Self.json(c, "create_entities", ["entities": .array((0..<25).map { Self.entity("e\($0)", "thing", ["note \($0)"]) })])
            _ = try await Self.json(c, "create_relations", ["relations": .array((0..<24).map { Self.relation("e\($0)", "next", "e\($0 + 1)") })])
            var entities: [String] = [], relations = 0, cursor: String?, pages = 0
            repeat {
                var arguments: [String: Value] = ["limit": 10]
                if let cursor { arguments["cursor"] = .string(cursor) }
                let page = try await Self.json(c, "read_graph", arguments)
                entities += Self.names(page)
                relations += page["relations"]?.items.count ?? 0
                cursor = page["nextCursor"]?.text
                pages += 1
            } while cursor != nil && pages < 20
            #expect(pages == 5 && entities.count == 25 && Set(entities).count == 25 && relations == 24)
            let wrong = try await c.toolText("read_graph", ["cursor": "page-two", "limit": 10])
            #expect(wrong.isError && wrong.text.contains("invalid argument 'cursor'"))
        }
    }

    /// Two clients (two sessions, as two MCP clients of one server would be) create entities
    /// and add observations to the same entity at the same time: every one of them lands.
    @Test func twoClientsWritingAtOnceLoseNothing() async throws {
        try await Self.with(clients: 2) { clients, _ in
            _ = try await Self.json(clients[0], "create_entities", ["entities": .array([Self.entity("Shared", "thing", [])])])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (n, client) in clients.enumerated() {
                    group.addTask {
                        for i in 0..<20 {
                            _ = try await Self.json(client, "create_entities", ["entities": .array([Self.entity("c\(n)-\(i)", "thing", ["from \(n)"])])])
                            _ = try await Self.json(client, "add_observations", ["observations": .array([
                                .object(["entityName": "Shared", "contents": .array([.string("client \(n) note \(i)")])]),
                            ])])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let graph = try await Self.json(clients[1], "read_graph", [:])
            #expect(Self.names(graph).count == 41)
            let shared = graph["entities"]?.items.first { $0["name"]?.text == "Shared" }
            #expect(shared?["observations"]?.items.count == 40)
        }
    }
}
