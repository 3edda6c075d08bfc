import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `troupe graph` through the real binary, on SQLite and on PostgreSQL: formed facts (restored
/// with their readings and provenance) and an imported knowledge graph, now and as of a past time.
@Suite("troupe graph", .serialized, .cleanups)
struct GraphCLITests {
    static func fact(_ id: String, _ content: String, value: String, turn: Int, createdAt: String) -> String {
        let metadata = """
            {"said_by":"user","conversation":"c1","turn":\(turn),"by":"person","method":"rules","basis":"stated","subject":"ana",\
            "reading":{"subject":"ana","attribute":"employer","value":"\(value)","ends":false,"by":"model"}}
            """
        return """
            {"id":"\(id)","persona":"athena","slice":"semantic","content":"\(content)","created_at":"\(createdAt)","metadata":\(metadata)}

            """
    }

    static func json(_ run: CLITests.Run) throws -> [String: Any] {
        #expect(run.status == 0, "\(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
    }

    @Test(arguments: ForeignImportCLITests.Store.allCases)
    func aboutAnEntityNowAndAsOfBeforeItChanged(_ store: ForeignImportCLITests.Store) async throws {
        let (home, config) = try await ForeignImportCLITests.home(store)
        let first = home.appendingPathComponent("first.jsonl"), second = home.appendingPathComponent("second.jsonl")
        try Self.fact("job", "Ana works at Fabrikam.", value: "fabrikam", turn: 1, createdAt: "2026-01-05T10:00:00Z").writeUnsynced(to: first)
        try Self.fact("job", "Ana now works at Contoso.", value: "contoso", turn: 7, createdAt: "2026-01-05T10:00:00Z").writeUnsynced(to: second)
        for file in [first, second] {
            let run = try await CLITests.troupe(["memory", "import", "--keep-source", "--no-embed", file.path], home: home, config: config)
            #expect(run.status == 0, "\(run.stderr)")
        }

        let now = try Self.json(try await CLITests.troupe(["graph", "--persona", "athena", "--about", "Ana", "--json"], home: home, config: config))
        let edges = try #require(now["edges"] as? [[String: Any]])
        #expect(edges.count == 1)
        #expect(edges.first?["value"] as? String == "contoso" && edges.first?["version"] as? Int == 2)
        #expect(edges.first?["said_by"] as? String == "user" && edges.first?["turn"] as? Int == 7 && edges.first?["trust"] as? Int == 4)
        #expect((now["entity"] as? [String: Any])?["neighbours"] as? [String] == ["contoso"])

        let before = try Self.json(try await CLITests.troupe(
            ["graph", "--persona", "athena", "--about", "ana", "--as-of", "2026-02-01T00:00:00Z", "--json"], home: home, config: config))
        let old = try #require((before["edges"] as? [[String: Any]])?.first)
        #expect(old["value"] as? String == "fabrikam" && old["version"] as? Int == 1 && old["valid_to"] is String)

        let early = try await CLITests.troupe(["graph", "--persona", "athena", "--about", "ana", "--as-of", "2025-12-01T00:00:00Z"], home: home, config: config)
        #expect(early.status == 0 && early.stdout.contains("nothing is known about 'ana'"), "\(early.stdout)")
        let bad = try await CLITests.troupe(["graph", "--as-of", "yesterday"], home: home, config: config)
        #expect(bad.status == 2 && bad.stderr.contains("not an RFC 3339 time"), "\(bad.stderr)")
    }

    @Test(arguments: ForeignImportCLITests.Store.allCases)
    func anImportedKnowledgeGraphIsPartOfThePersonasBeliefs(_ store: ForeignImportCLITests.Store) async throws {
        let (home, config) = try await ForeignImportCLITests.home(store)
        let file = ForeignImportCLITests.files.appendingPathComponent("mcp-memory.jsonl").path
        let imported = try await CLITests.troupe(["memory", "import", "--no-embed", "--from", "mcp-memory", "--persona", "hestia", file], home: home, config: config)
        #expect(imported.status == 0, "\(imported.stderr)")
        let run = try await CLITests.troupe(["graph", "--persona", "hestia", "--about", "john_smith"], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("John_Smith (person): 4 edges; one hop: "), "\(run.stdout)")
        #expect(run.stdout.contains("Anthropic") && run.stdout.contains("—lives_in→ Lyon"), "\(run.stdout)")
        #expect(run.stdout.contains("John_Smith —works_at→ Anthropic  (hestia, since "), "\(run.stdout)")
        #expect(run.stdout.contains("John_Smith: Speaks fluent Spanish"), "\(run.stdout)")
        let other = try await CLITests.troupe(["graph", "--persona", "athena", "--about", "john_smith"], home: home, config: config)
        #expect(other.stdout.contains("nothing is known"), "athena does not share hestia's beliefs: \(other.stdout)")
    }
}
