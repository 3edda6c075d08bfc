import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `troupe run`, issue 25: a run is a new run (ids from its run id), dated by the real clock,
/// replayed from its recorded start wherever it is replayed, seeds that are held already are not
/// written twice, and a sandbox commits all of its changes or none, leaving no process behind.
@Suite("troupe run: repeatable and bounded", .serialized, .cleanups)
struct SessionRunsCLITests {
    static let handover = SessionCLITests.sessions.appendingPathComponent("knowledge-handover.yaml").path
    static let owners = ["seshat", "bellona", "hestia", "team-decisions"]

    /// `troupe` with extra environment variables (a forced failure).
    static func troupe(_ args: [String], home: URL, config: URL, environment: [String: String]) async throws -> CLITests.Run {
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["--home", home.path, "--config", config.path] + args
        process.currentDirectoryURL = home
        process.environment = ProcessInfo.processInfo.environment.merging(["HOME": home.path]) { $1 }.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try await offThePool("troupe-test.launch") { try process.run() }
        return try await CLITests.finish((process, out, err))
    }

    static func header(_ log: URL) throws -> [String: Any] { try #require(try SessionCLITests.lines(log, kind: "session").first) }

    @Test func aSecondRunOnTheSameHomeIsANewRunAndSeedsAreNotDuplicated() async throws {
        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        var runs: [URL] = []
        for name in ["one", "two"] {
            let out = home.appendingPathComponent(name)
            let run = try await CLITests.troupe(["run", Self.handover, "--out", out.path], home: home, config: config)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            runs.append(out.appendingPathComponent("log.jsonl"))
            if name == "two" { #expect(run.stderr.contains("team-decisions/semantic holds this memory already"), "\(run.stderr)") }
        }
        let first = try Self.header(runs[0]), second = try Self.header(runs[1])
        #expect((first["run"] as? String)?.count == 16 && first["run"] as? String != second["run"] as? String)
        let seeds = try #require(second["seeds"] as? [[String: Any]])
        #expect(seeds.count == 2 && seeds.allSatisfy { ($0["outcome"] as? String)?.hasPrefix("skipped") == true }, "\(seeds)")
        let decisions = try await CLITests.troupe(["memory", "export", "--persona", "team-decisions"], home: home, config: config).stdout
        #expect(decisions.components(separatedBy: "acknowledged within 15 minutes").count == 2, "\(decisions)")

        // Two sessions that seed and write overlapping records, one after the other.
        for name in ["design-review", "incident-retrospective"] {
            let file = SessionCLITests.sessions.appendingPathComponent("\(name).yaml").path
            let run = try await CLITests.troupe(["run", file, "--out", home.appendingPathComponent(name).path, "--json"], home: home, config: config)
            #expect(!run.stderr.contains("error:"), "\(name): \(run.stderr)")
            #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) is [String: Any], "\(name): \(run.stdout)")
        }
    }

    @Test func memoriesAreDatedByTheRealClockUnlessTheFileFixesIt() async throws {
        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        let before = Date().addingTimeInterval(-1)
        #expect(try await CLITests.troupe(["run", Self.handover, "--out", home.appendingPathComponent("real").path], home: home, config: config).status == 0)
        let after = Date().addingTimeInterval(1)
        let export = try await CLITests.troupe(["memory", "export", "--persona", "seshat"], home: home, config: config).stdout
        let dates = export.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["created_at"] as? String
        }.compactMap(Timestamp.parse)
        let session = dates.filter { $0 > before.addingTimeInterval(-3600) }
        #expect(session.count >= 4 && session.allSatisfy { $0 >= before && $0 <= after }, "\(dates)")

        let fixed = try SessionCLITests.write("""
            title: A fixed clock
            personas: [athena, hestia]
            opening: remember that the trial runs on Friday
            start: "2027-01-15T08:00:00Z"
            max_rounds: 1
            expect:
              - stopped_by: max_rounds

            """, "fixed.yaml", in: home)
        #expect(try await CLITests.troupe(["run", fixed.path, "--out", home.appendingPathComponent("fixed").path], home: home, config: config).status == 0)
        let athena = try await CLITests.troupe(["memory", "export", "--persona", "athena", "--slice", "episodic"], home: home, config: config).stdout
        // The first round, a minute after the start.
        #expect(athena.contains("\"created_at\":\"2027-01-15T08:01:00."), "\(athena)")
    }

    /// On encrypted homes (TROUPE_TEST_ENCRYPTED_HOMES=1), `other` gets `home`'s vault: a
    /// recording made in an encrypted home is replayed with that home's keys.
    static func shareVault(of home: URL, with other: URL) throws {
        guard CLITests.encryptedHomes else { return }
        try FileManager.default.removeItem(at: other.appendingPathComponent("vault"))
        try FileManager.default.copyItem(at: home.appendingPathComponent("vault"), to: other.appendingPathComponent("vault"))
    }

    @Test func aReplayStartsFromTheRecordedStartWhateverEitherHomeHeld() async throws {
        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        // What the recording home held shapes what is recalled, and so the memory written.
        let held = ["memory", "add", "--persona", "seshat", "--slice", "semantic", "The on-call rota moved to the ops wiki in 2025."]
        #expect(try await CLITests.troupe(held, home: home, config: config).status == 0)
        let out = home.appendingPathComponent("recorded")
        #expect(try await CLITests.troupe(["run", Self.handover, "--out", out.path], home: home, config: config).status == 0)
        let recorded = try await SessionCLITests.memory(home, config, owners: Self.owners)
        let transcript = try String(contentsOf: out.appendingPathComponent("transcript.md"), encoding: .utf8)

        let (other, otherConfig) = try SessionCLITests.home(llm: SessionCLITests.offline)
        try Self.shareVault(of: home, with: other)
        let own = ["memory", "add", "--persona", "hestia", "--slice", "semantic", "Something the replaying home held."]
        #expect(try await CLITests.troupe(own, home: other, config: otherConfig).status == 0)
        let again = other.appendingPathComponent("replay")
        let replay = try await CLITests.troupe(["run", Self.handover, "--out", again.path, "--replay", out.appendingPathComponent("log.jsonl").path], home: other, config: otherConfig)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try String(contentsOf: again.appendingPathComponent("transcript.md"), encoding: .utf8) == transcript)
        #expect(try await SessionCLITests.memory(other, otherConfig, owners: Self.owners) == recorded)
        #expect(FileManager.default.fileExists(atPath: again.appendingPathComponent("home-before.sqlite").path))
        #expect(replay.stderr.contains("home-before.sqlite"))

        // The replay's own log replays the same again (it carries the recorded model calls).
        let (third, thirdConfig) = try SessionCLITests.home(llm: SessionCLITests.offline)
        try Self.shareVault(of: home, with: third)
        let log = again.appendingPathComponent("log.jsonl").path
        let twice = try await CLITests.troupe(["run", Self.handover, "--out", third.appendingPathComponent("r").path, "--replay", log], home: third, config: thirdConfig)
        #expect(twice.status == 0, "\(twice.stderr)")
        #expect(try await SessionCLITests.memory(third, thirdConfig, owners: Self.owners) == recorded)

        // And in the home it was recorded in, which holds the run's records already.
        let same = try await CLITests.troupe(
            ["run", Self.handover, "--out", home.appendingPathComponent("again").path, "--replay", out.appendingPathComponent("log.jsonl").path],
            home: home, config: config)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(try await SessionCLITests.memory(home, config, owners: Self.owners) == recorded)
    }

    @Test func aSandboxedReplayCommitsAllOrNothing() async throws {
        let (recording, recordingConfig) = try SessionCLITests.home(llm: SessionCLITests.offline)
        let source = recording.appendingPathComponent("live")
        #expect(try await CLITests.troupe(["run", Self.handover, "--out", source.path], home: recording, config: recordingConfig).status == 0)
        let log = source.appendingPathComponent("log.jsonl").path

        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        #expect(try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "Before the sandbox."], home: home, config: config).status == 0)
        let export = { try await CLITests.troupe(["memory", "export"], home: home, config: config).stdout }
        let stats = { try await CLITests.troupe(["memory", "stats", "--json"], home: home, config: config).stdout }
        let (before, statsBefore) = (try await export(), try await stats())

        // A failure in the middle of the commit, with rounds of it written: the home stays as it was.
        let out = home.appendingPathComponent("failing")
        let failed = try await Self.troupe(
            ["run", Self.handover, "--sandbox", "--replay", log, "--out", out.path], home: home, config: config,
            environment: ["TROUPE_FAULT": "session.commit:after=2"])
        #expect(failed.status == 1 && failed.stderr.contains("not written into the home, which is as it was"), "\(failed.stdout)\(failed.stderr)")
        #expect(try SessionCLITests.lines(out.appendingPathComponent("commit/log.jsonl"), kind: "turn").count == 2)
        #expect(try await export() == before)
        #expect(try await stats() == statsBefore)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("commit/staging.sqlite").path))

        let good = try await CLITests.troupe(["run", Self.handover, "--sandbox", "--replay", log, "--out", home.appendingPathComponent("ok").path], home: home, config: config)
        #expect(good.status == 0 && good.stdout.contains("written into the home"), "\(good.stdout)\(good.stderr)")
        let after = try await export()
        #expect(after.contains("Before the sandbox.") && after.contains("the on-call rota lives in the ops wiki"))
    }

    @Test func noRedisServerOutlivesASandboxRun() async throws {
        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "redis:\n  mode: off", with: "redis:\n  mode: managed").writeUnsynced(to: config)
        #expect(try String(contentsOf: config, encoding: .utf8).contains("redis:\n  mode: managed"))
        let run = try await CLITests.troupe(["run", Self.handover, "--sandbox", "--out", home.appendingPathComponent("s").path], home: home, config: config)
        #expect(run.status == 0 && run.stdout.contains("written into the home"), "\(run.stdout)\(run.stderr)")
        #expect(Self.redisServers(under: home).isEmpty, "redis-server still running: \(Self.redisServers(under: home))")
    }

    /// The pids of redis-server processes whose command line names a path under `folder`.
    static func redisServers(under folder: URL) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains("redis-server") && line.contains(folder.path)
        }
    }
}
