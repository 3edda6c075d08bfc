import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `memory decay` through the binary on SQLite and PostgreSQL (artemis keeps episodes 90 days):
/// an old episode never recalled moves to the archive (a new version, out of recall, found with
/// `--archive`, still exported); one that was recalled stays; importance follows recalls.
@Suite("memory decay", .serialized, .cleanups)
struct DecayCLITests {
    static func line(_ id: String, _ slice: String, _ content: String, at time: String, recalls: Int, tags: [String] = []) -> String {
        let tagList = tags.map { "\"\($0)\"" }.joined(separator: ",")
        return """
            {"id":"\(id)","persona":"artemis","slice":"\(slice)","content":"\(content)","created_at":"\(time)","access_count":\(recalls),\
            "tags":[\(tagList)],"metadata":{"said_by":"user","conversation":"c9","turn":1,"by":"person","method":"verbatim","basis":"stated"}}

            """
    }

    @Test(arguments: ForeignImportCLITests.Store.allCases)
    func oldUnrecalledEpisodesMoveToTheArchiveAndImportanceFollowsUse(_ store: ForeignImportCLITests.Store) async throws {
        let (home, config) = try await ForeignImportCLITests.home(store)
        let recent = Timestamp.format(Date().addingTimeInterval(-86_400))
        let file = home.appendingPathComponent("memories.jsonl")
        try (Self.line("old", "episodic", "The old deploy checklist lived on the wiki.", at: "2025-01-01T00:00:00Z", recalls: 0)
            + Self.line("used", "episodic", "The pager rota starts on Mondays.", at: "2025-01-01T00:00:00Z", recalls: 3)
            + Self.line("new", "episodic", "The deploy checklist moved to the repository.", at: recent, recalls: 0)
            + Self.line("sum", "episodic", "Conversation c9: the deploy checklist.", at: "2025-01-01T00:00:00Z", recalls: 0, tags: ["summary"])
            + Self.line("fact", "semantic", "The pager rota has four people.", at: "2025-01-01T00:00:00Z", recalls: 1)).writeUnsynced(to: file)
        let imported = try await CLITests.troupe(["memory", "import", "--keep-source", "--no-embed", file.path], home: home, config: config)
        #expect(imported.status == 0, "\(imported.stderr)")

        let run = try await CLITests.troupe(["memory", "decay", "--persona", "artemis", "--json"], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(report["artemis"]?["archived"] == .array([.string("old")]), "\(run.stdout)")
        #expect(Set(report["artemis"]?["reweighed"]?.items.compactMap(\.text) ?? []) == ["used", "fact"])
        #expect(report["artemis"]?["kept_for_use"] == .number(1))

        // Nothing left to do until time or recalls move on.
        let again = try await CLITests.troupe(["memory", "decay", "--persona", "artemis"], home: home, config: config)
        #expect(again.stdout.contains("artemis: 0 episodes archived, 1 past retention kept (recalled), 0 importances learned"), "\(again.stdout)")
        let records = try await ForeignImportCLITests.exported("artemis", home: home, config: config)
        let old = try #require(records["The old deploy checklist lived on the wiki."])
        #expect((old["tags"] as? [String])?.contains("archived") == true && old["version"] as? Int == 2, "still exported, a new version")
        #expect(records["The pager rota starts on Mondays."]?["importance"] as? Double == 0.7)
        #expect(records["The pager rota has four people."]?["importance"] as? Double == 0.6)
        #expect((records["Conversation c9: the deploy checklist."]?["tags"] as? [String]) == ["summary"], "summaries stay")

        let recall = try await CLITests.troupe(["memory", "recall", "--persona", "artemis", "--json", "deploy checklist wiki"], home: home, config: config)
        #expect(recall.status == 0 && !recall.stdout.contains("lived on the wiki") && recall.stdout.contains("moved to the repository"), "\(recall.stdout)")
        let archive = try await CLITests.troupe(["memory", "recall", "--persona", "artemis", "--archive", "--json", "deploy checklist wiki"], home: home, config: config)
        #expect(archive.stdout.contains("lived on the wiki") && !archive.stdout.contains("moved to the repository"), "\(archive.stdout)")

        let forever = try await CLITests.troupe(["memory", "decay", "--persona", "seshat"], home: home, config: config)
        #expect(forever.status == 0 && forever.stdout.contains("seshat: 0 episodes archived"))
    }
}
