import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// Every session in Scripts/sessions passes on the three kinds of backend: the offline one, an
/// OpenAI-compatible server (the test server, which honours a JSON schema's enum) and the
/// embedded SmolLM2-135M — and its transcript reads: each reply once, no prompt markup.
@Suite("shipped sessions", .serialized, .cleanups)
struct ShippedSessionsCLITests {
    static let names = ["knowledge-handover", "design-review", "incident-retrospective", "five-personas"]

    /// A home for `llm`; with `embedded`, the installed chat model is linked into the home (the
    /// CLI tests hide the user's ~/.troupe).
    static func home(llm: String) throws -> (home: URL, config: URL) {
        let (home, config) = try SessionCLITests.home(llm: llm)
        if llm.contains("embedded") {
            let user = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            let installed = ProcessInfo.processInfo.environment["TROUPE_LLM_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
                ?? URL(fileURLWithPath: user).appendingPathComponent(".troupe/models/smollm2-135m-instruct")
            let models = home.appendingPathComponent("models")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("smollm2-135m-instruct"), withDestinationURL: installed)
        }
        return (home, config)
    }

    /// Runs every shipped session, one after another, on one home (a session can run where
    /// others ran before), and checks each run and transcript.
    static func runAll(llm: String) async throws {
        let (home, config) = try home(llm: llm)
        for name in names {
            let out = home.appendingPathComponent("runs/\(name)")
            let file = SessionCLITests.sessions.appendingPathComponent("\(name).yaml")
            let run = try await CLITests.troupe(["run", file.path, "--out", out.path], home: home, config: config)
            #expect(run.status == 0, "\(name): \(run.stdout)\n\(run.stderr)")
            let transcript = try String(contentsOf: out.appendingPathComponent("transcript.md"), encoding: .utf8)
            #expect(!transcript.contains("<recalled-memories") && !transcript.contains("</recalled-memories>"), "\(name): markup leaked\n\(transcript)")
            // Each reply once: a turn that answers another persona names it instead of repeating it.
            // (A reply that only echoes what the person said is the person's words too.)
            let replies = try SessionCLITests.lines(out.appendingPathComponent("log.jsonl"), kind: "turn")
                .filter { turn in !((turn["message"] as? String ?? "").contains(turn["reply"] as? String ?? "")) }
                .compactMap { ($0["reply"] as? String)?.replacingOccurrences(of: "\n", with: " ") }.filter { $0.count > 20 }
            let heard = transcript.split(separator: "\n").filter { $0.hasPrefix("*") && $0.contains(" said") }
            for line in heard {
                #expect(!replies.contains { line.contains($0) }, "\(name): a reply is printed again: \(line.prefix(200))")
            }
            if name == "design-review" {
                let decisions = try SessionCLITests.lines(out.appendingPathComponent("log.jsonl"), kind: "decision")
                #expect(decisions.count == 1 && transcript.contains("## Decision"), "\(name): \(transcript)")
                let choices = try SessionCLITests.lines(out.appendingPathComponent("log.jsonl"), kind: "turn").compactMap { $0["choice"] as? [String: Any] }
                #expect(!choices.isEmpty && choices.allSatisfy { $0["fallback"] as? Bool == false }, "the moderator picked every speaker: \(choices)")
            }
        }
    }

    @Test func onTheOfflineBackend() async throws {
        try await Self.runAll(llm: SessionCLITests.offline)
    }

    @Test func onAnOpenAICompatibleServer() async throws {
        let server = try await ModelServer(mode: "short")
        try await Self.runAll(llm: SessionCLITests.server(server.port))
    }

    @Test func onTheEmbeddedModel() async throws {
        try await Self.runAll(llm: "  backend: embedded")
    }

    /// A recorded design review replays to the same decision and transcript, with no model.
    @Test func aDecisionReplaysFromTheLog() async throws {
        let server = try await ModelServer(mode: "short")
        let (home, config) = try Self.home(llm: SessionCLITests.server(server.port))
        let file = SessionCLITests.sessions.appendingPathComponent("design-review.yaml")
        let out = home.appendingPathComponent("live"), again = home.appendingPathComponent("replayed")
        let live = try await CLITests.troupe(["run", file.path, "--out", out.path], home: home, config: config)
        #expect(live.status == 0, "\(live.stderr)")
        let (other, otherConfig) = try Self.home(llm: SessionCLITests.offline)
        let replay = try await CLITests.troupe(
            ["run", file.path, "--out", again.path, "--replay", out.appendingPathComponent("log.jsonl").path], home: other, config: otherConfig)
        #expect(replay.status == 0, "\(replay.stderr)")
        let decision = { (folder: URL) in try SessionCLITests.lines(folder.appendingPathComponent("log.jsonl"), kind: "decision").first?["chose"] as? String }
        #expect(try decision(out) != nil && decision(out) == decision(again))
    }
}
