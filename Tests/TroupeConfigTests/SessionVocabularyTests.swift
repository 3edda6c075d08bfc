import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeStoreConformance

/// One vocabulary in session files: `text` everywhere, with `content` and `contains` accepted
/// as its aliases; a `moderator` or an `order` under `turns` implies its policy; the clock is
/// the real one unless the file asks for a fixed one.
@Suite("Session file vocabulary")
struct SessionVocabularyTests {
    static func read(_ text: String) throws -> SessionDefinition {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-vocabulary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("session.yaml")
        try text.writeUnsynced(to: url)
        let (definition, diagnostics) = SessionDefinition.load(url, configuration: SessionCorpusTests.configuration())
        return try #require(definition, "\(diagnostics.map(\.rendered).joined(separator: "\n"))")
    }

    static func session(text key: String, expect: String) -> String {
        """
        title: Words
        personas: [athena, hestia]
        shared: [team-decisions]
        opening: {from: user, \(key): "Shall we start?"}
        memories:
          - {persona: athena, \(key): "SQLite stays"}
        inject:
          - {round: 2, \(key): "A late note"}
        expect:
          - recalls: {persona: athena, query: "store", \(expect): "SQLite"}
          - holds: {slice: team-decisions, \(expect): "SQLite"}

        """
    }

    @Test(arguments: [("text", "text"), ("content", "contains"), ("text", "contains"), ("contains", "content")])
    func textAndItsAliasesReadTheSame(key: String, expect: String) throws {
        let canonical = try Self.read(Self.session(text: "text", expect: "text"))
        var aliased = try Self.read(Self.session(text: key, expect: expect))
        aliased.file = canonical.file
        #expect(aliased == canonical)
        #expect(canonical.opening.text == "Shall we start?" && canonical.seeds.first?.content == "SQLite stays")
        #expect(canonical.injections.first?.message.text == "A late note")
        #expect(canonical.expectations.contains(.holds(slice: "team-decisions", contains: "SQLite")))
    }

    @Test func aModeratorOrAnOrderAloneImpliesItsPolicy() throws {
        let base = "title: T\npersonas: [athena, hestia]\nopening: Go.\n"
        #expect(try Self.read(base + "turns: {moderator: athena}\n").policy == .moderator("athena"))
        #expect(try Self.read(base + "turns: {order: [hestia, athena]}\n").policy == .order(["hestia", "athena"]))
        #expect(try Self.read(base + "turns: {policy: moderator, moderator: hestia}\n").policy == .moderator("hestia"))
        #expect(try Self.read(base).policy == .roundRobin)
    }

    @Test func theClockIsRealUnlessTheFileFixesIt() throws {
        let base = "title: T\npersonas: [athena, hestia]\nopening: Go.\n"
        #expect(try Self.read(base).clock == .real)
        let fixed = try Self.read(base + "clock: fixed\n")
        #expect(fixed.clock == .fixed && fixed.start == Date(timeIntervalSince1970: 1_800_000_000))
        let started = try Self.read(base + "start: \"2026-03-01T09:00:00Z\"\n")
        #expect(started.clock == .fixed && started.start == Timestamp.parse("2026-03-01T09:00:00Z"))
    }
}
