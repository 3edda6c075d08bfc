import Foundation
import Testing
import TroupeCore
import TroupeStore

/// The readers of other systems' files, on their own: the layouts each format comes in, what
/// each item maps to or why it is left out, and the errors that name where a file is broken.
/// (Imports through the binary, on SQLite and PostgreSQL: `ForeignImportCLITests`.)
@Suite("Foreign formats")
struct ForeignFormatTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static func context(_ owner: PersonaID? = "athena", shared: [PersonaID: SliceKind] = [:]) -> ForeignContext {
        ForeignContext(owner: owner, knownOwners: ["athena", "seshat", "log", "facts"], sharedKinds: shared, now: now)
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func mem0ComesAsJSONLinesAListOrOneMemory() throws {
        let lines = """
            {"id":"a","memory":"Likes tea","created_at":"2026-01-01T00:00:00Z"}

            {"id":"b","memory":"Lives in Oslo","created_at":"2026-01-02T00:00:00Z","categories":["places", 3]}
            """
        let read = try Mem0Export.read(Self.bytes(lines), file: "m.jsonl", context: Self.context())
        #expect(read.records.map(\.content) == ["Likes tea", "Lives in Oslo"])
        #expect(read.records[1].tags == ["mem0", "places"])
        #expect(read.skipped == [.init("line 3", field: "categories[1]", "expected text; left out")])

        let list = try Mem0Export.read(Self.bytes(#"[{"id":"a","memory":"Likes tea"}]"#), file: "m.json", context: Self.context())
        #expect(list.records.count == 1 && list.records[0].createdAt == Self.now, "no time: dated at the import")
        let one = try Mem0Export.read(Self.bytes(#"{"id":"a","memory":"Likes tea"}"#), file: "m.json", context: Self.context())
        #expect(one.records.map(\.id) == list.records.map(\.id), "the same memory, the same record id")

        #expect(throws: TroupeError.self) { try Mem0Export.read(Self.bytes(#"{"memories": 3}"#), file: "m.json", context: Self.context()) }
        let broken = "{\"id\":\"a\",\"memory\":\"x\"}\n{\"id\":\"b\",\"memory\":\n"
        let error = try #require(throws: TroupeError.self) { try Mem0Export.read(Self.bytes(broken), file: "m.jsonl", context: Self.context()) }
        #expect(error.context == "m.jsonl:2:20", "\(error)")  // the end of the line
    }

    @Test func twoItemsOfOneIdAreImportedOnceAndTheSecondIsReported() throws {
        let text = #"{"results":[{"id":"a","memory":"Likes tea"},{"id":"a","memory":"Likes coffee"}]}"#
        let read = try Mem0Export.read(Self.bytes(text), file: "m.json", context: Self.context())
        #expect(read.records.map(\.content) == ["Likes tea"])
        #expect(read.skipped == [.init("results[1]", "the same item as results[0]; imported once")])
    }

    @Test func aSharedSliceTakesOnlyItsKind() throws {
        let text = #"{"results":[{"id":"a","memory":"Likes tea"}]}"#
        let error = try #require(throws: TroupeError.self) {
            try Mem0Export.read(Self.bytes(text), file: "m.json", context: Self.context("log", shared: ["log": .episodic]))
        }
        #expect(error.message.contains("'log' is a shared slice of episodic memories"))
        let facts = try Mem0Export.read(Self.bytes(text), file: "m.json", context: Self.context("facts", shared: ["facts": .semantic]))
        #expect(facts.records.first?.owner == "facts")
    }

    /// Letta's older layout: one agent, its core memory inline; a user turn that is plain text.
    @Test func theOlderSingleAgentLettaLayout() throws {
        let text = """
            {"name": "seshat", "agent_type": "memgpt_agent", "system": "You are Seshat.",
             "core_memory": [
               {"label": "human", "value": "Name: Alex", "created_at": "2025-04-01 10:00:00", "updated_at": "2025-04-02 10:00:00", "limit": 5000},
               {"label": "persona", "value": "I am Seshat.", "created_at": "2025-04-01 10:00:00", "updated_at": "2025-04-01 10:00:00"}
             ],
             "messages": [
               {"role": "user", "content": [{"type": "text", "text": "Hello there"}], "created_at": "2025-04-01 10:05:00"},
               {"role": "assistant", "content": "Hi Alex.", "created_at": "2025-04-01 10:05:01"}
             ]}
            """
        let read = try LettaAgentFile.read(Self.bytes(text), file: "s.af", context: Self.context(nil))
        #expect(read.records.map(\.owner) == ["seshat", "seshat", "seshat", "seshat"], "the agent's name is a persona's")
        #expect(read.records.map(\.slice) == [.semantic, .procedural, .episodic, .episodic])
        let human = read.records[0]
        #expect(Timestamp.format(human.createdAt) == "2025-04-01T10:00:00.000Z" && Timestamp.format(human.validFrom) == "2025-04-02T10:00:00.000Z",
                "Letta's zoneless times are UTC")
        #expect(read.records[3].content == "Hi Alex.")
        #expect(read.skipped.map(\.field) == ["system"])

        let stranger = text.replacingOccurrences(of: "\"name\": \"seshat\"", with: "\"name\": \"Mnemosyne\"")
        let error = try #require(throws: TroupeError.self) { try LettaAgentFile.read(Self.bytes(stranger), file: "s.af", context: Self.context(nil)) }
        #expect(error.message.contains("the agent 'Mnemosyne', which is no persona here: pass --persona"))
        #expect(throws: TroupeError.self) { try LettaAgentFile.read(Self.bytes(#"{"tools": []}"#), file: "s.af", context: Self.context()) }
    }

    @Test func theMCPMemoryFileNamesItsBrokenLineAndColumn() throws {
        let text = "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]}\n\n{\"type\":\"relation\" \"from\":\"A\"}\n"
        let error = try #require(throws: TroupeError.self) { try MCPMemoryFile.read(Self.bytes(text), file: "memory.jsonl", context: Self.context()) }
        #expect(error.context == "memory.jsonl:3:20", "\(error)")
        #expect(throws: TroupeError.self) { try MCPMemoryFile.read(Self.bytes("{}"), file: "memory.jsonl", context: Self.context(nil)) }

        let fine = try MCPMemoryFile.read(Self.bytes("[1]\n{\"type\":\"relation\",\"from\":\"A\",\"to\":\"\",\"relationType\":\"r\"}\n"), file: "m", context: Self.context())
        #expect(fine.records.isEmpty)
        #expect(fine.skipped == [
            .init("line 1", "expected a JSON object with a \"type\" of entity or relation"),
            .init("line 2", field: "to", "a relation needs from, to and relationType (text)"),
        ])
    }

    /// A write that fails partway: the error says how many records landed (whole batches).
    @Test func aFailedBatchSaysHowFarTheImportGot() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mem0-\(UUID().uuidString).json")
        try Data((0..<5).map { "{\"id\":\"m\($0)\",\"memory\":\"Memory number \($0)\"}" }.joined(separator: "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let batches = LockedBox(0)
        let importer = ForeignImporter(format: .mem0, context: Self.context(), batchSize: 2) { batch, _ in
            let n = batches.withLock { count in
                count += 1
                return count
            }
            guard n == 1 else { throw TroupeError(.storage, "the disk is full") }
            return UpsertSummary(inserted: batch.count)
        }
        let error = await #expect(throws: TroupeError.self) { try await importer.run(file: file.path) }
        #expect(error?.message.contains("stopped after 2 of 5 records") == true && error?.cause?.contains("the disk is full") == true, "\(String(describing: error))")
    }
}
