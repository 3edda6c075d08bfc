import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `troupe run`: the shipped offline session, replays that give the same memory byte for byte,
/// a resume after kill -9, sandboxes, a moderator that names no one, a parallel round.
@Suite("troupe run", .serialized, .cleanups)
struct SessionCLITests {
    static let sessions = CLITests.repo.appendingPathComponent("Scripts/sessions")

    /// A home whose config answers with `backend` (offline, or the test model server).
    static func home(llm: String) throws -> (home: URL, config: URL) {
        let (home, config) = try HostileInputCLITests.home()
        let text = try String(contentsOf: config, encoding: .utf8)
        let start = try #require(text.range(of: "\nllm:"))
        let end = text[start.upperBound...].range(of: "\n\n")?.lowerBound ?? text.endIndex
        try (String(text[..<start.lowerBound]) + "\nllm:\n" + llm + String(text[end...])).writeUnsynced(to: config)
        return (home, config)
    }

    static let offline = "  backend: offline"
    static func server(_ port: Int) -> String { "  backend: openai\n  base_url: http://127.0.0.1:\(port)/v1\n  model: test\n  timeout: 20s" }

    /// The session's own memory as export lines (personas and shared slices of the session).
    static func memory(_ home: URL, _ config: URL, owners: [String]) async throws -> String {
        var lines = ""
        for owner in owners { lines += try await CLITests.troupe(["memory", "export", "--persona", owner], home: home, config: config).stdout }
        return lines
    }

    static func write(_ text: String, _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try text.writeUnsynced(to: url)
        return url
    }

    static func lines(_ log: URL, kind: String) throws -> [[String: Any]] {
        try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["kind"] as? String == kind }
    }

    @Test func theOfflineHandOverPassesAndAReplayGivesTheSameTranscriptAndMemory() async throws {
        let (home, config) = try Self.home(llm: Self.offline)
        let out = home.appendingPathComponent("run1")
        let run = try await CLITests.troupe(["run", Self.sessions.appendingPathComponent("knowledge-handover.yaml").path, "--out", out.path, "--json"], home: home, config: config)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["passed"] as? Bool == true && summary["stopped_by"] as? String == "max_rounds")
        #expect(run.stderr.contains("round 1/4 seshat"))
        let transcript = try String(contentsOf: out.appendingPathComponent("transcript.md"), encoding: .utf8)
        #expect(transcript.hasPrefix("# On-call knowledge hand-over to seshat") && transcript.contains("### seshat") && transcript.contains("[^1]"))
        #expect(transcript.contains("Stopped because of max_rounds") && transcript.contains("gained: the on-call rota lives in the ops wiki"))
        // Who said each fact: the opening is a person's words, whatever name it is said as.
        #expect(transcript.contains("— said by bellona in turn 1 · a person's words, trust 4/4"), "\(transcript)")
        let log = out.appendingPathComponent("log.jsonl")
        #expect(try Self.lines(log, kind: "turn").count == 4 && Self.lines(log, kind: "end").count == 1)

        let (other, otherConfig) = try Self.home(llm: Self.offline)
        let again = other.appendingPathComponent("replay")
        let replay = try await CLITests.troupe(
            ["run", Self.sessions.appendingPathComponent("knowledge-handover.yaml").path, "--out", again.path, "--replay", log.path], home: other, config: otherConfig)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try String(contentsOf: again.appendingPathComponent("transcript.md"), encoding: .utf8) == transcript)
        let owners = ["seshat", "bellona", "hestia", "team-decisions"]
        let first = try await Self.memory(home, config, owners: owners), second = try await Self.memory(other, otherConfig, owners: owners)
        #expect(first == second && first.split(separator: "\n").count > 20)
    }

    @Test func aRunKilledMidTurnResumesWithoutRepeatingOrLosingATurn() async throws {
        let server = try await ModelServer(mode: "short")
        let (home, config) = try Self.home(llm: Self.server(server.port))
        let file = Self.sessions.appendingPathComponent("knowledge-handover.yaml").path
        let out = home.appendingPathComponent("run")
        let log = out.appendingPathComponent("log.jsonl")
        let turnsLogged = { (try? Self.lines(log, kind: "turn").count) ?? 0 }
        // Two turns done, then the next model call is held after its third word and the run
        // killed there: a turn in flight, whatever the machine's speed.
        try server.holdReplies(once: log, hasTurns: 2)
        let started = try await CLITests.start(["run", file, "--out", out.path], home: home, config: config)
        started.err.fileHandleForReading.readabilityHandler = { _ = $0.availableData }  // a full pipe would stall the run
        #expect(await eventually(120) { server.isHoldingAReply })
        try await CLITests.kill(started)
        started.err.fileHandleForReading.readabilityHandler = nil
        server.release()
        let done = turnsLogged()
        #expect(done >= 2 && done < 4, "\(done) turns logged before the kill")

        let resumed = try await CLITests.troupe(["run", file, "--out", out.path, "--resume"], home: home, config: config)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let turns = try Self.lines(out.appendingPathComponent("log.jsonl"), kind: "turn")
        #expect(turns.compactMap { $0["round"] as? Int } == [1, 2, 3, 4])

        // The same memory as a run that was never killed: its whole log, replayed from the
        // start it recorded in a home of its own (every run has ids and times of its own, so a
        // second live run would not be the same run).
        let (clean, cleanConfig) = try Self.home(llm: Self.offline)
        let replay = try await CLITests.troupe(
            ["run", file, "--out", clean.appendingPathComponent("run").path, "--replay", out.appendingPathComponent("log.jsonl").path],
            home: clean, config: cleanConfig)
        #expect(replay.status == 0, "\(replay.stderr)")
        let owners = ["seshat", "bellona", "hestia", "team-decisions"]
        let resumedMemory = try await Self.memory(home, config, owners: owners)
        #expect(resumedMemory == (try await Self.memory(clean, cleanConfig, owners: owners)))
        // One run id throughout: no turn's records were drawn twice.
        let ids = resumedMemory.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String }
        #expect(Set(ids).count == ids.count)
    }

    @Test func aSandboxCommitsOnlyWhenItsExpectationsPass() async throws {
        let (home, config) = try Self.home(llm: Self.offline)
        let failing = try Self.write("""
            title: A trial that fails
            personas: [athena, hestia]
            opening: remember that the trial runs on Friday
            max_rounds: 2
            expect:
              - recalls: {persona: athena, query: "when is the trial", contains: "Saturday"}

            """, "trial.yaml", in: home)
        let before = try await CLITests.troupe(["memory", "export", "--persona", "athena"], home: home, config: config).stdout
        let run = try await CLITests.troupe(["run", failing.path, "--sandbox", "--out", home.appendingPathComponent("t1").path], home: home, config: config)
        #expect(run.status == 1 && run.stdout.contains("FAILED") && run.stdout.contains("sandbox: the home was left untouched"), "\(run.stdout)")
        #expect(try await CLITests.troupe(["memory", "export", "--persona", "athena"], home: home, config: config).stdout == before)

        let passing = try Self.write(try String(contentsOf: failing, encoding: .utf8).replacingOccurrences(of: "Saturday", with: "Friday"), "ok.yaml", in: home)
        let good = try await CLITests.troupe(["run", passing.path, "--sandbox", "--out", home.appendingPathComponent("t2").path], home: home, config: config)
        #expect(good.status == 0 && good.stdout.contains("written into the home"), "\(good.stdout)")
        #expect(try await CLITests.troupe(["memory", "export", "--persona", "athena"], home: home, config: config).stdout.contains("the trial runs on Friday"))
    }

    @Test func aModeratorWhoNamesNoOneNeverStallsTheSession() async throws {
        let server = try await ModelServer(mode: "fixed")  // every answer is "banana banana …"
        let (home, config) = try Self.home(llm: Self.server(server.port))
        let file = try Self.write("""
            title: A moderator who only says banana
            personas: [bellona, athena, hestia]
            opening: What do we ship first?
            turns:
              policy: moderator
              moderator: bellona
            max_rounds: 6
            expect:
              - stopped_by: max_rounds

            """, "moderated.yaml", in: home)
        let out = home.appendingPathComponent("m")
        let run = try await CLITests.troupe(["run", file.path, "--out", out.path], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        let turns = try Self.lines(out.appendingPathComponent("log.jsonl"), kind: "turn")
        #expect(turns.count == 6)
        let speakers = turns.compactMap { $0["persona"] as? String }
        for (a, b) in zip(speakers, speakers.dropFirst()) { #expect(a != b, "\(speakers)") }
        let choices = turns.compactMap { $0["choice"] as? [String: Any] }
        #expect(choices.count == 6 && choices.allSatisfy { $0["fallback"] as? Bool == true })
    }

    /// With `stop.moderator`, the moderator may end the discussion once everyone else has
    /// spoken (the offline backend picks the option its prompt names last: the end, once it is
    /// offered), and a replay stops there too.
    @Test func theModeratorEndsTheDiscussionOnceEveryoneHasSpoken() async throws {
        let (home, config) = try Self.home(llm: Self.offline)
        let file = try Self.write("""
            title: A short review
            personas: [bellona, athena, hestia]
            opening: What do we ship first?
            turns: {policy: moderator, moderator: bellona}
            max_rounds: 8
            stop: {moderator: true}
            expect:
              - stopped_by: moderator

            """, "short.yaml", in: home)
        let out = home.appendingPathComponent("s")
        let run = try await CLITests.troupe(["run", file.path, "--out", out.path], home: home, config: config)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let speakers = try Self.lines(out.appendingPathComponent("log.jsonl"), kind: "turn").compactMap { $0["persona"] as? String }
        #expect(Set(speakers).isSuperset(of: ["athena", "hestia"]) && speakers.count < 8, "\(speakers)")
        let transcript = try String(contentsOf: out.appendingPathComponent("transcript.md"), encoding: .utf8)
        #expect(transcript.contains("moderator"), "\(transcript)")

        let (other, otherConfig) = try Self.home(llm: Self.offline)
        let again = other.appendingPathComponent("r")
        let replay = try await CLITests.troupe(
            ["run", file.path, "--out", again.path, "--replay", out.appendingPathComponent("log.jsonl").path], home: other, config: otherConfig)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        let replayed = try Self.lines(again.appendingPathComponent("log.jsonl"), kind: "turn").compactMap { $0["persona"] as? String }
        #expect(replayed == speakers)
    }

    @Test func aParallelRoundResolvesConflictsAndReplaysTheSame() async throws {
        let server = try await ModelServer(mode: "short")
        let (home, config) = try Self.home(llm: Self.server(server.port))
        let file = Self.sessions.appendingPathComponent("incident-retrospective.yaml")
        let out = home.appendingPathComponent("p")
        let run = try await CLITests.troupe(["run", file.path, "--out", out.path, "--json"], home: home, config: config)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let turns = try Self.lines(out.appendingPathComponent("log.jsonl"), kind: "turn")
        let shared = turns.filter { $0["round"] as? Int == 1 }.compactMap { ($0["shared"] as? [[String: Any]])?.first }
        #expect(shared.count == 3)
        #expect(shared.filter { $0["outcome"] as? String == "applied" }.count == 1)
        #expect(shared.filter { $0["outcome"] as? String == "overwrote" }.count == 2, "\(shared)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["conflicts"] as? Int == 2)
        #expect(try String(contentsOf: out.appendingPathComponent("transcript.md"), encoding: .utf8).contains("overwrote, audit #"))

        let (other, otherConfig) = try Self.home(llm: Self.offline)
        let replay = try await CLITests.troupe(
            ["run", file.path, "--out", other.appendingPathComponent("r").path, "--replay", out.appendingPathComponent("log.jsonl").path],
            home: other, config: otherConfig)
        #expect(replay.status == 0, "\(replay.stderr)")
        let owners = ["bellona", "artemis", "hestia", "incident-log", "team-decisions"]
        #expect(try await Self.memory(home, config, owners: owners) == Self.memory(other, otherConfig, owners: owners))
    }

    @Test func aSessionFileErrorSaysWhereTheKeyBelongsAndNothingRuns() async throws {
        let (home, config) = try Self.home(llm: Self.offline)
        let file = try Self.write("""
            title: Misplaced
            personas: [bellona, athena, seshat]
            shared: [incident-log]
            opening: {from: user, content: "What do we ship first?"}
            moderator: bellona

            """, "misplaced.yaml", in: home)
        let out = home.appendingPathComponent("m")
        let run = try await CLITests.troupe(["run", file.path, "--out", out.path], home: home, config: config)
        #expect(run.status != 0)
        #expect(run.stderr.contains("misplaced.yaml:5:1: error: 'moderator' does not belong at the top level: move it under 'turns' (turns: {moderator: bellona})"), "\(run.stderr)")
        #expect(run.stderr.contains("'athena' takes part but is not a member of shared slice 'incident-log' (members: artemis, hestia, bellona)"), "\(run.stderr)")
        #expect(!run.stderr.contains("content"), "the alias is accepted: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func aPersonaNameGivenByTwoFilesStopsTheStartNamingBoth() async throws {
        let (home, config) = try Self.home(llm: Self.offline)
        let personas = home.appendingPathComponent("personas")
        try FileManager.default.copyItem(at: CLITests.repo.appendingPathComponent("Personas"), to: personas)
        try FileManager.default.copyItem(at: personas.appendingPathComponent("hestia.yaml"), to: personas.appendingPathComponent("aaa.yaml"))
        try (try String(contentsOf: config, encoding: .utf8)).replacingOccurrences(
            of: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)", with: "personas: \(personas.path)"
        ).writeUnsynced(to: config)
        let run = try await CLITests.troupe(["personas", "list"], home: home, config: config)
        #expect(run.status != 0)
        #expect(run.stderr.contains("hestia.yaml") && run.stderr.contains("aaa.yaml") && run.stderr.contains("duplicate persona name 'hestia'"), "\(run.stderr)")
    }
}
