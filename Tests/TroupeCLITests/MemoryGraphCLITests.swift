import Foundation
import Testing
import TroupeCore
import TroupeServiceTestSupport
import TroupeStoreConformance

/// `troupe mcp --memory-graph` driven by the official Python MCP client, two processes writing
/// at once, on a SQLite home and on a PostgreSQL one: what both wrote is there, the graph
/// reads back in pages, and a graph imported from the MCP memory server's file opens.
@Suite("troupe mcp --memory-graph with the Python MCP client", .serialized, .cleanups)
struct MemoryGraphCLITests {
    static let script = CLITests.repo.appendingPathComponent("Tests/TroupeCLITests/MCPClient/memory_graph.py")

    @Test(arguments: ForeignImportCLITests.Store.allCases)
    func twoClientsInTwoProcessesLoseNothingAndTheImportedGraphOpens(_ store: ForeignImportCLITests.Store) async throws {
        let (home, config) = try await ForeignImportCLITests.home(store)
        let file = ForeignImportCLITests.files.appendingPathComponent("mcp-memory.jsonl").path
        let imported = try await CLITests.troupe(["memory", "import", "--from", "mcp-memory", "--persona", "hestia", file], home: home, config: config)
        #expect(imported.status == 0, "\(imported.stderr)")
        guard let run = try await MCPCLITests.client(Self.script, [CLITests.binary.path, home.path, config.path, "hestia"], home: home) else { return }
        #expect(run.status == 0, "the Python client failed: \(run.stderr)")
        let answer = try JSONValue.parse(Array(run.stdout.utf8))
        let tools = answer["tools"]?.items.compactMap(\.text) ?? []
        #expect(["create_entities", "read_graph", "open_nodes", "delete_relations", "recall"].allSatisfy(tools.contains), "\(tools)")
        let names = answer["names"]?.items.compactMap(\.text) ?? []
        // 3 imported, Shared, and 15 from each client; each once over the pages.
        #expect(names.count == 34 && Set(names).count == 34, "\(names)")
        #expect(answer["relations"] == .number(2))
        #expect(answer["pages"] == .number(6), "36 items in pages of 7")
        #expect(answer["shared"]?.items.count == 30, "every observation of both clients: \(run.stdout)")
        let opened = answer["opened"]?["entities"]?.items.first
        #expect(opened?["observations"] == .array([.string("Speaks fluent Spanish"), .string("Graduated in 2019")]))
        #expect(answer["opened"]?["relations"]?.items.count == 2)
        #expect(answer["bad"]?["is_error"] == .bool(true) && answer["bad"]?["text"]?.text?.contains("Entity with name Nobody not found") == true)
    }
}
