import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `memory import --from mem0|letta|mcp-memory`, through the real binary, on a SQLite home and
/// on a PostgreSQL one: files in each system's format (written from its public schema, in
/// ForeignFiles/) map to records that keep the source's ids and times, what cannot be mapped
/// is listed, a second import adds nothing, and a broken file is an error naming its line
/// that writes nothing.
@Suite("memory import --from", .serialized, .cleanups)
struct ForeignImportCLITests {
    enum Store: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let files = CLITests.repo.appendingPathComponent("Tests/TroupeCLITests/ForeignFiles")

    /// A home with the repository's personas, Redis off, on `store`.
    static func home(_ store: Store) async throws -> (home: URL, config: URL) {
        if store == .postgres {
            let (home, config, _) = try await PostgresCLITests.home()
            return (home, config)
        }
        let home = try CLITests.tempHome()
        let config = home.appendingPathComponent("troupe.yaml")
        let text = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
            .replacingOccurrences(of: "  mode: managed", with: "  mode: off")
        try text.writeUnsynced(to: config)
        return (home, config)
    }

    /// The persona's records as `memory export` writes them, by content.
    static func exported(_ persona: String, home: URL, config: URL) async throws -> [String: [String: Any]] {
        let run = try await CLITests.troupe(["memory", "export", "--persona", persona], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        var out: [String: [String: Any]] = [:]
        for line in run.stdout.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            out[object["content"] as! String] = object
        }
        return out
    }

    static func importing(_ args: [String], home: URL, config: URL) async throws -> CLITests.Run {
        try await CLITests.troupe(["memory", "import", "--no-embed"] + args, home: home, config: config)
    }

    @Test(arguments: Store.allCases)
    func mem0MemoriesKeepTheirIdsAndTimesAndASecondImportAddsNothing(_ store: Store) async throws {
        let (home, config) = try await Self.home(store)
        let file = Self.files.appendingPathComponent("mem0-get-all.json").path
        let dry = try await Self.importing(["--from", "mem0", "--persona", "athena", "--dry-run", file], home: home, config: config)
        #expect(dry.status == 0 && dry.stdout.contains("6 items → 4 records (dry run: nothing written)"), "\(dry.stdout)\(dry.stderr)")
        #expect(try await Self.exported("athena", home: home, config: config).values.allSatisfy { $0["source"] as? String != "mem0" })
        let run = try await Self.importing(["--from", "mem0", "--persona", "athena", file], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("6 items → 4 records: 4 new, 0 updated, 0 unchanged; 2 not imported"), "\(run.stdout)")
        #expect(run.stderr.contains("results[2]: note: not imported: field 'memory'"), "\(run.stderr)")
        #expect(run.stderr.contains("relations[1]: note: not imported"), "\(run.stderr)")

        let records = try await Self.exported("athena", home: home, config: config)
        let paris = try #require(records["Is travelling to Paris in May"])
        #expect(paris["slice"] as? String == "semantic" && paris["source"] as? String == "mem0")
        #expect(paris["created_at"] as? String == "2026-02-26T06:57:00.108Z")
        #expect(paris["valid_from"] as? String == "2026-03-01T17:00:00.000Z")
        #expect((paris["tags"] as? [String])?.contains("travel") == true)
        let metadata = try #require(paris["metadata"] as? [String: Any])
        #expect(metadata["source_id"] as? String == "f38b689d-6b24-45b7-bced-17fbb4d8bac7")
        #expect(metadata["imported_from"] as? String == "mem0" && metadata["by"] as? String == "import")
        #expect((metadata["mem0"] as? [String: Any])?["created_at"] as? String == "2026-02-25T23:57:00.108347-07:00")
        #expect((metadata["mem0"] as? [String: Any])?["hash"] as? String == "62bc074f56d1f909f1b4c2b639f56f6a")
        #expect(records["alex works_in lyon"] != nil, "graph memory's relation")
        #expect(records.count == 4 + Self.seeds(records))

        let again = try await Self.importing(["--from", "mem0", "--persona", "athena", file], home: home, config: config)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 new, 0 updated, 4 unchanged"), "\(again.stdout)")
        #expect(try await Self.exported("athena", home: home, config: config).count == records.count)
    }

    @Test(arguments: Store.allCases)
    func aLettaAgentFileBringsBlocksTurnsAndPassagesToThePersonaOfItsName(_ store: Store) async throws {
        let (home, config) = try await Self.home(store)
        let file = Self.files.appendingPathComponent("seshat.af").path
        let run = try await Self.importing(["--from", "letta", file], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("→ 7 records: 7 new, 0 updated, 0 unchanged"), "\(run.stdout)")
        for expected in [
            "agents[0].messages[0]: note: not imported: the system prompt", "agents[0].messages[1]: note: not imported: field 'content': a Letta event ('login')",
            "agents[0].messages[3]: note: not imported: field 'content': no text (reasoning, tool call core_memory_append only)",
            "agents[0].messages[4]: note: not imported: a tool's return", "agents[0].passages[1]: note: not imported: field 'text'",
            "blocks[2]", "tools[0] 'send_message': note: not imported: a tool", "agents[0]: note: not imported: field 'llm_config'",
        ] {
            #expect(run.stderr.contains(expected), "\(expected) in \(run.stderr)")
        }

        let records = try await Self.exported("seshat", home: home, config: config)
        let human = try #require(records["Name: Alex\nRole: finance lead\nPrefers short answers."])
        #expect(human["slice"] as? String == "semantic" && (human["tags"] as? [String])?.contains("core-memory") == true)
        #expect(records["I am Seshat. I keep records exactly and say where each fact came from."]?["slice"] as? String == "procedural")
        let said = try #require(records["The quarterly audit moved to 14 April."])
        #expect(said["slice"] as? String == "episodic" && said["created_at"] as? String == "2026-03-02T09:01:00.000Z")
        let saidMetadata = try #require(said["metadata"] as? [String: Any])
        #expect(saidMetadata["said_by"] as? String == "user" && saidMetadata["source_id"] as? String == "message-2")
        #expect(records["Noted: the quarterly audit is on 14 April."]?["slice"] as? String == "episodic", "sent with send_message")
        #expect(records["Bellona signs off the audit."] != nil && records["Who signs off the audit?"] != nil)
        let passage = try #require(records["The 2025 audit found two missing invoices."])
        #expect((passage["metadata"] as? [String: Any])?["source_id"] as? String == "passage-3f0b1c2d-0000-4000-8000-000000000001")

        let again = try await Self.importing(["--from", "letta", file], home: home, config: config)
        #expect(again.stdout.contains("0 new, 0 updated, 7 unchanged"), "\(again.stdout)")
    }

    @Test(arguments: Store.allCases)
    func theMCPMemoryServersFileBecomesAKnowledgeGraphOfThePersona(_ store: Store) async throws {
        let (home, config) = try await Self.home(store)
        let file = Self.files.appendingPathComponent("mcp-memory.jsonl").path
        let run = try await Self.importing(["--from", "mcp-memory", "--persona", "hestia", file], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("7 items → 9 records: 9 new"), "\(run.stdout)")
        #expect(run.stderr.contains("line 4: note: not imported: field 'name'"), "\(run.stderr)")
        #expect(run.stderr.contains("line 5: note: not imported: field 'type': 'note' is not entity or relation"), "\(run.stderr)")
        #expect(run.stderr.contains("line 6: note: not imported: field 'observations[1]'"), "\(run.stderr)")
        let records = try await Self.exported("hestia", home: home, config: config)
        #expect(records["John_Smith (person)"] != nil && records["John_Smith: Speaks fluent Spanish"] != nil)
        #expect(records["John_Smith works_at Anthropic"] != nil && records["Lyon: On the Rhône"] != nil)
        let again = try await Self.importing(["--from", "mcp-memory", "--persona", "hestia", file], home: home, config: config)
        #expect(again.stdout.contains("0 new, 0 updated, 9 unchanged"), "\(again.stdout)")
    }

    /// A file that is not its format's JSON: an error naming the file, line and column, and
    /// not one record written (the lines before the bad one included).
    @Test(arguments: Store.allCases)
    func aBrokenFileIsAnErrorNamingItsLineAndWritesNothing(_ store: Store) async throws {
        let (home, config) = try await Self.home(store)
        let before = try await Self.exported("hestia", home: home, config: config).count
        let jsonl = home.appendingPathComponent("memory.jsonl")
        try "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"x\"]}\n{\"type\":\"entity\",\"name\":\"B\",\n"
            .writeUnsynced(to: jsonl)
        let mcp = try await Self.importing(["--from", "mcp-memory", "--persona", "hestia", jsonl.path], home: home, config: config)
        #expect(mcp.status != 0)
        #expect(mcp.stderr.contains("\(jsonl.path):2:"), "\(mcp.stderr)")

        let mem0 = home.appendingPathComponent("mem0.json")
        try "{\n  \"results\": [\n    {\"id\": \"1\", \"memory\": \"x\" \"created_at\": \"2026-01-01T00:00:00Z\"}\n  ]\n}\n".writeUnsynced(to: mem0)
        let bad = try await Self.importing(["--from", "mem0", "--persona", "hestia", mem0.path], home: home, config: config)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("\(mem0.path):3:31: not valid JSON"), "\(bad.stderr)")

        let truncated = Self.files.appendingPathComponent("truncated.af").path
        let letta = try await Self.importing(["--from", "letta", "--persona", "hestia", truncated], home: home, config: config)
        #expect(letta.status != 0)
        #expect(letta.stderr.contains("truncated.af:"), "\(letta.stderr)")
        #expect(try await Self.exported("hestia", home: home, config: config).count == before)

        let noPersona = try await Self.importing(["--from", "mem0", Self.files.appendingPathComponent("mem0-get-all.json").path], home: home, config: config)
        #expect(noPersona.status != 0 && noPersona.stderr.contains("--persona is required"), "\(noPersona.stderr)")
    }

    /// The persona's procedural seeds from its YAML, which every home holds beside imports.
    static func seeds(_ records: [String: [String: Any]]) -> Int {
        records.values.filter { $0["source"] as? String == "seed" }.count
    }
}
