import Foundation
import Testing
import TroupeCore

/// Issue 25 end to end: a piped REPL on the defaults' embedded model (SmolLM2-135M) and MiniLM.
/// The person states a date, talks of other things, corrects the date with `:remember`, then
/// asks; what the turn recalled (what its prompt was given, as `:why` shows it) and what
/// `memory recall --why` shows afterwards must put the current value first. The 135M model's
/// reply is not asserted: its words are not reliable.
@Suite("Recall puts the truth first (CLI, embedded model)", .serialized, .cleanups)
struct RecallTruthCLITests {
    /// The user-wide models Scripts/setup installs; the CLI tests' HOME is their temporary home,
    /// so the home gets a link to them.
    static let models = URL(fileURLWithPath: ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())
        .appendingPathComponent(".troupe/models")

    static var installed: Bool {
        ["smollm2-135m-instruct", "all-minilm-l6-v2"].allSatisfy {
            FileManager.default.fileExists(atPath: models.appendingPathComponent($0).path)
        }
    }

    /// A home that finds the installed models, and the repository's config on the embedded model.
    static func embeddedHome() throws -> (home: URL, config: URL) {
        let home = try CLITests.tempHome()
        try FileManager.default.createSymbolicLink(at: home.appendingPathComponent("models"), withDestinationURL: models)
        var text = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
        text = text.replacingOccurrences(of: "backend: auto ", with: "backend: embedded ")
        let config = home.appendingPathComponent("troupe.yaml")
        try text.writeUnsynced(to: config)
        return (home, config)
    }

    /// The recalled memories a `:why` lists, in order: their contents and their `why:` lines.
    static func recalled(inWhy output: String) -> [(content: String, why: String)] {
        let lines = output.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "recalled:") else { return [] }
        var out: [(String, String)] = []
        var i = start + 1
        while i < lines.count, lines[i] != "wrote:" {
            if lines[i].range(of: #"^  \d+\. \["#, options: .regularExpression) != nil, i + 1 < lines.count {
                let why = lines[(i + 1)...].first { $0.hasPrefix("     why: ") } ?? ""
                out.append((lines[i + 1].trimmingCharacters(in: .whitespaces), why))
            }
            i += 1
        }
        return out
    }

    static func stale(_ text: String) -> Bool { text.contains("14 March") && !text.contains("21 March") }

    @Test(.enabled(if: installed, "needs the embedded model and MiniLM (Scripts/setup)"))
    func theCurrentDateIsRecalledFirstAfterRemember() async throws {
        let (home, config) = try Self.embeddedHome()
        let input = home.appendingPathComponent("input.txt")
        try """
            the launch is on 14 March
            I bought a new bicycle yesterday
            the coffee machine on the second floor is broken
            :remember the launch moved to 21 March
            when is the launch?
            :why
            :quit

            """.writeUnsynced(to: input)
        let repl = try await CLITests.troupe(["repl", "--persona", "athena"], home: home, config: config, stdin: input)
        #expect(repl.status == 0, "\(repl.stderr)")
        #expect(repl.stdout.contains("superseded"), "the :remember superseded the fact: \(repl.stdout)")
        #expect(repl.stdout.contains("answered by embedded"), "the turn ran on the embedded model")

        // The answer: a stale date the 135M model repeats never stands alone — the runtime says
        // under the reply what memory holds now.
        let replies = repl.stdout.components(separatedBy: "athena: ")
        let answer = try #require(replies.count > 4 ? replies[4].components(separatedBy: "\nturn ").first : nil, "\(repl.stdout)")
        if Self.stale(answer.components(separatedBy: "\n  (no longer true").first ?? answer) || answer.contains("14 March") {
            #expect(answer.contains("memory says: the launch moved to 21 March"), "\(answer)")
        }
        // Nor does a date of the model's own making: a reply that dates the launch otherwise
        // than 21 March is followed by what memory holds.
        let reply = answer.components(separatedBy: "\n  (").first ?? answer
        let dated = reply.components(separatedBy: CharacterSet(charactersIn: ".!?\n")).filter {
            $0.lowercased().contains("launch") && $0.range(of: #"\b\d{1,2}(st|nd|rd|th)? (January|February|March|April|May|June|July|August|September|October|November|December)\b"#, options: .regularExpression) != nil
        }
        if dated.contains(where: { !$0.contains("21 March") }) {
            #expect(answer.contains("memory says: the launch moved to 21 March"), "\(answer)")
        }
        // Whatever the model says, the answer gives the current date: in the reply, or in the
        // runtime's note under it.
        #expect(answer.contains("21 March"), "\(answer)")
        // What the question's turn recalled, as its prompt was given it.
        let turn = Self.recalled(inWhy: repl.stdout)
        let first = try #require(turn.first, "\(repl.stdout)")
        #expect(first.content == "the launch moved to 21 March", "\(turn.map(\.content))")
        for hit in turn.dropFirst() where Self.stale(hit.content) {
            #expect(hit.why.contains("superseded -"), "a stale mention is discounted: \(hit.why)")
        }
        // The figures read as what they are: the cosine itself, never a share printed as 1.000.
        #expect(first.why.contains("cosine 0.") && first.why.contains("trust +0.000 (rank 4/4"), "\(first.why)")

        // Afterwards, from the command line, over the slices a turn recalls from (working memory
        // holds the question itself, which a turn does not recall).
        let slices = ["episodic", "semantic", "procedural"].flatMap { ["--slice", $0] }
        let recall = try await CLITests.troupe(
            ["memory", "recall", "--persona", "athena", "--why", "--json"] + slices + ["when is the launch?"], home: home, config: config)
        #expect(recall.status == 0, "\(recall.stderr)")
        let hits = try #require(try JSONSerialization.jsonObject(with: Data(recall.stdout.utf8)) as? [[String: Any]])
        let contents = hits.compactMap { $0["content"] as? String }
        // The fact before anything that repeats the old date. (A turn may come first: the
        // question's own episode holds its very words, and what the model answered — right,
        // or a date of its own making, which no memory knows to be superseded.)
        let fact = try #require(contents.firstIndex(of: "the launch moved to 21 March"), "\(contents)")
        #expect(contents[..<fact].allSatisfy { !Self.stale($0) }, "\(contents)")
        let firstStale = contents.firstIndex(where: Self.stale)
        #expect(firstStale.map { $0 > 0 } ?? true)
        for hit in hits where Self.stale(hit["content"] as? String ?? "") {
            let components = hit["components"] as? [String: Any]
            let superseded = components?["superseded"] as? [String: Any]
            #expect((superseded?["contribution"] as? Double ?? 0) < 0, "\(hit)")
        }
        let semantic = (hits.first?["components"] as? [String: Any])?["semantic"] as? [String: Any]
        #expect((semantic?["raw"] as? Double ?? 1) < 1 && semantic?["reference"] != nil)
    }
}
