import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `memory consolidate` through the binary on SQLite and PostgreSQL: a conversation's turns
/// (restored with their provenance) become one dated summary whose every sentence is in the
/// turn it names; a short conversation and imported messages are left alone; a second run
/// writes nothing.
@Suite("memory consolidate", .serialized, .cleanups)
struct ConsolidationCLITests {
    static func turn(_ conversation: String, _ number: Int, _ said: String, _ reply: String, at time: String) -> String {
        let content = "user: \(said)\\nathena: \(reply)"
        return """
            {"id":"\(conversation)-t\(number)","persona":"athena","slice":"episodic","content":"\(content)","created_at":"\(time)",\
            "metadata":{"said_by":"user","conversation":"\(conversation)","turn":\(number),"by":"person","method":"summary","basis":"inferred"}}

            """
    }

    @Test(arguments: ForeignImportCLITests.Store.allCases)
    func aConversationIsSummarisedOnceFromWhatItsTurnsSay(_ store: ForeignImportCLITests.Store) async throws {
        let (home, config) = try await ForeignImportCLITests.home(store)
        let file = home.appendingPathComponent("turns.jsonl")
        try (Self.turn("c1", 1, "We moved the release to Friday.", "Friday it is.", at: "2026-03-02T09:00:00Z")
            + Self.turn("c1", 2, "Hestia owns the rollback plan.", "I will ask her for it.", at: "2026-03-02T09:01:00Z")
            + Self.turn("c1", 3, "What time is it?", "I cannot tell the time.", at: "2026-03-02T09:02:00Z")
            + Self.turn("c1", 4, "The staging cluster runs Postgres 15 now.", "Good to know.", at: "2026-03-02T09:03:00Z")
            + Self.turn("c2", 1, "Hello there.", "Hello.", at: "2026-03-03T09:00:00Z")).writeUnsynced(to: file)
        for args in [["--keep-source", file.path], ["--from", "letta", "--persona", "athena", ForeignImportCLITests.files.appendingPathComponent("seshat.af").path]] {
            let run = try await CLITests.troupe(["memory", "import", "--no-embed"] + args, home: home, config: config)
            #expect(run.status == 0, "\(run.stderr)")
        }

        let run = try await CLITests.troupe(["memory", "consolidate", "--persona", "athena", "--json"], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(report["athena"]?["new"] == .number(1) && report["athena"]?["waiting"] == .number(1), "c2 is too short: \(run.stdout)")
        #expect(report["athena"]?["conversations"] == .number(2), "the imported Letta messages are no conversation of this home")

        let records = try await ForeignImportCLITests.exported("athena", home: home, config: config)
        let summary = try #require(records.values.first { ($0["tags"] as? [String]) == ["summary"] })
        #expect(summary["slice"] as? String == "episodic" && summary["created_at"] as? String == "2026-03-02T09:03:00.000Z")
        let content = try #require(summary["content"] as? String)
        #expect(content.hasPrefix("Conversation c1, 2026-03-02 (turns 1–4):\n"), "\(content)")
        let metadata = try #require(summary["metadata"] as? [String: Any])
        #expect(metadata["covers"] as? [String] == ["c1-t1", "c1-t2", "c1-t3", "c1-t4"])
        let sentences = try #require(metadata["sentences"] as? [[String: Any]])
        let byID = Dictionary(records.values.map { ($0["id"] as! String, $0["content"] as! String) }, uniquingKeysWith: { a, _ in a })
        #expect(sentences.count == content.split(separator: "\n").count - 1)
        for sentence in sentences {
            let text = try #require(sentence["text"] as? String), from = try #require(sentence["from"] as? String)
            #expect(byID[from]?.contains(text) == true, "'\(text)' is in \(from)")
            #expect(content.contains("\(sentence["speaker"] as? String ?? ""): \(text)"))
        }
        #expect(content.contains("user: Hestia owns the rollback plan.") && !content.contains("What time is it?"))

        let again = try await CLITests.troupe(["memory", "consolidate", "--persona", "athena"], home: home, config: config)
        #expect(again.stdout.contains("0 summarised, 0 summaries brought up to date, 1 up to date"), "\(again.stdout)")
    }
}
