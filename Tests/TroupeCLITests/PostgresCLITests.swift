import Foundation
import Testing
import TroupeCore
import TroupePostgres
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// Homes whose store is PostgreSQL (`storage.backend: postgres`), through the real binary: one
/// process's write recalled by another, a process killed mid-import, a server that is down.
@Suite("troupe on PostgreSQL", .serialized, .cleanups)
struct PostgresCLITests {
    /// A home on a fresh schema of the test server; `url` overrides the server's.
    static func home(url: String? = nil, passwordEnv: String? = nil) async throws -> (home: URL, config: URL, location: PostgresLocation) {
        let home = try CLITests.tempHome()
        let location = try await TestPostgres.freshLocation()
        let config = home.appendingPathComponent("troupe.yaml")
        // The repository's configuration (its personas and shared slices), on PostgreSQL, Redis off.
        var storage = "storage:\n  backend: postgres\n  url: \(url ?? location.url)\n  schema: \(location.schema!)\n"
        if let passwordEnv { storage += "  password_env: \(passwordEnv)\n" }
        let text = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
            .replacingOccurrences(of: "storage:\n  backend: sqlite", with: storage + "  # backend: sqlite")
            .replacingOccurrences(of: "  mode: managed", with: "  mode: off")
        try text.writeUnsynced(to: config)
        return (home, config, location)
    }

    @Test func aWriteInOneProcessIsRecalledByAnother() async throws {
        let (home, config, _) = try await Self.home()
        // A first recall, so that the reading side has loaded its index before the write.
        _ = try await CLITests.troupe(["memory", "recall", "--persona", "artemis", "launch window"], home: home, config: config)
        let add = try await CLITests.troupe(
            ["memory", "add", "--persona", "artemis", "--slice", "semantic", "the launch window opens on Tuesday at dawn"], home: home, config: config)
        #expect(add.status == 0, "\(add.stderr)")
        let recall = try await CLITests.troupe(["memory", "recall", "--persona", "artemis", "--json", "when does the launch window open"], home: home, config: config)
        #expect(recall.status == 0, "\(recall.stderr)")
        #expect(recall.stdout.contains("the launch window opens on Tuesday at dawn"))
        let doctor = try await CLITests.troupe(["doctor"], home: home, config: config)
        #expect(doctor.stdout.contains("PostgreSQL 15") && doctor.stdout.contains("schema pg-v3"), "\(doctor.stdout)")
    }

    @Test func sigkillMidImportLeavesWholeBatchesAndARerunCompletesIt() async throws {
        let (home, config, location) = try await Self.home()
        let file = home.appendingPathComponent("big.jsonl")
        let lines = 60_000
        try await offThePool("troupe-test.write-input") {
            var text = ""
            for i in 0..<lines {
                text += "{\"persona\":\"seshat\",\"slice\":\"episodic\",\"content\":\"note \(i) about the release checklist\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n"
            }
            try text.writeUnsynced(to: file)
        }
        let running = try await CLITests.start(["memory", "import", file.path, "--batch-size", "1000", "--no-embed"], home: home, config: config)
        let store = try await TestPostgres.open(location, connections: 1, sealer: try TestVault.sealer(home: home))
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, running.process.isRunning {
            if let count = try? await Self.notes(store), count > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await CLITests.kill(running)
        #expect(running.process.terminationReason == .uncaughtSignal, "the import finished before it could be killed")
        let partial = try await Self.notes(store)
        #expect(partial > 0 && partial < lines && partial % 1000 == 0, "\(partial) records: only whole batches land")

        let rerun = try await CLITests.troupe(["memory", "import", file.path, "--no-embed"], home: home, config: config)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try await Self.notes(store) == lines)
    }

    /// Four processes import at once while the server is stopped and started again under
    /// them: each either finishes (it reconnected by itself) or fails naming the store, and
    /// nothing it was told had landed is lost (whole batches only; a rerun completes it).
    @Test func aServerRestartUnderFourImportingProcessesLosesNothingAcknowledged() async throws {
        try await TestPostgres.withScratchServer { server in
            let (home, config, scratch) = try await Self.home(url: server.url)
            // Large enough that the imports are still running when a batch each has landed.
            let personas = ["athena", "artemis", "hestia", "seshat"], lines = 25_000, batch = 200
            let files = try await offThePool("troupe-test.write-input") {
                try personas.map { persona in
                    let file = home.appendingPathComponent("\(persona).jsonl")
                    let text = (0..<lines).map { "{\"persona\":\"\(persona)\",\"slice\":\"episodic\",\"content\":\"\(persona) note \($0) about the restart\"}\n" }.joined()
                    try text.writeUnsynced(to: file)
                    return file
                }
            }
            var running: [CLITests.Running] = []
            for file in files {
                running.append(try await CLITests.start(["memory", "import", file.path, "--batch-size", String(batch), "--no-embed"], home: home, config: config))
            }
            defer { for process in running { kill(process.process.processIdentifier, SIGCONT) } }  // none left paused if the test throws
            let store = try await TestPostgres.open(PostgresLocation(url: server.url, schema: scratch.schema), connections: 1, reconnectWindow: 60, sealer: try TestVault.sealer(home: home))
            let deadline = Date().addingTimeInterval(300)
            var before = 0
            while Date() < deadline, before < batch * personas.count {
                try await Task.sleep(for: .milliseconds(20))
                before = try await Self.counts(store, personas).reduce(0, +)
            }
            // The imports are paused while the server stops, so they are mid-import when it goes
            // down whatever the machine's speed, and go on while it is down.
            for process in running where process.process.isRunning { kill(process.process.processIdentifier, SIGSTOP) }
            let waiting = running.filter { $0.process.isRunning }.count
            before = try await Self.counts(store, personas).reduce(0, +)
            try await offThePool { try server.stopServer() }
            for process in running { kill(process.process.processIdentifier, SIGCONT) }
            try await Task.sleep(for: .seconds(1))
            try await offThePool { try server.start() }

            for (index, process) in running.enumerated() {
                let run = try await CLITests.finish(process)
                let landed = try await Self.counts(store, [personas[index]])[0]
                if run.status == 0 {
                    #expect(landed == lines, "\(personas[index]) finished with \(landed) of \(lines) records")
                } else {
                    #expect(run.stderr.contains("cannot reach the store at") || run.stderr.contains("may or may not"), "\(run.stderr)")
                    #expect(landed % batch == 0, "\(landed) records: only whole batches land")
                    let rerun = try await CLITests.troupe(["memory", "import", files[index].path, "--no-embed"], home: home, config: config)
                    #expect(rerun.status == 0, "\(rerun.stderr)")
                }
            }
            #expect(before < lines * personas.count && waiting > 0, "the imports finished before the restart")
            #expect(try await Self.counts(store, personas) == Array(repeating: lines, count: personas.count))
        }
    }

    static func counts(_ store: PostgresStore, _ personas: [String]) async throws -> [Int] {
        let buckets = try await store.stats().buckets
        return personas.map { p in buckets.first { $0.owner == p && $0.slice == .episodic }?.count ?? 0 }
    }

    /// How many of the imported notes are in the store.
    static func notes(_ store: PostgresStore) async throws -> Int {
        try await store.stats().buckets.first { $0.owner == "seshat" && $0.slice == .episodic }?.count ?? 0
    }

    @Test func aServerThatIsDownIsNamedAndNothingElseHappens() async throws {
        let port = try FreePort.find()
        let (home, config, _) = try await Self.home(url: "postgres://troupe@127.0.0.1:\(port)/postgres")
        let add = try await CLITests.troupe(["memory", "add", "--persona", "artemis", "--slice", "semantic", "a fact"], home: home, config: config)
        #expect(add.status != 0)
        #expect(add.stderr.contains("cannot reach the store at postgres://troupe@127.0.0.1:\(port)/postgres"), "\(add.stderr)")
        let doctor = try await CLITests.troupe(["doctor"], home: home, config: config)
        #expect(doctor.stdout.contains("cannot reach the store"), "\(doctor.stdout)")

        let (other, otherConfig, _) = try await Self.home(passwordEnv: "TROUPE_TEST_UNSET_PASSWORD")
        let unset = try await CLITests.troupe(["memory", "add", "--persona", "artemis", "--slice", "semantic", "a fact"], home: other, config: otherConfig)
        #expect(unset.status != 0 && unset.stderr.contains("TROUPE_TEST_UNSET_PASSWORD"), "\(unset.stderr)")
    }

    /// A SQLite home with versions, lost values, links, an audit, a forgotten record and vectors,
    /// copied to PostgreSQL (once killed mid-copy and resumed) and back, verified each time.
    @Test func migrateToPostgresAndBackLosesNothingAndResumesAfterAKill() async throws {
        let (home, config) = try await CoordinationCLITests.team()
        let file = home.appendingPathComponent("notes.jsonl")
        var text = (0..<3).map { #"{"id": "r\#($0)", "persona": "reject", "slice": "semantic", "content": "record \#($0)"}"# }
        text += (0..<3).map { #"{"id": "b\#($0)", "persona": "both", "slice": "semantic", "content": "record \#($0)"}"# }
        text += (0..<8_000).map { #"{"persona": "ana", "slice": "episodic", "content": "note \#($0) about the migration"}"# }
        try text.joined(separator: "\n").writeUnsynced(to: file)
        #expect(try await CLITests.troupe(["memory", "import", file.path], home: home, config: config).status == 0)
        for slice in ["reject", "both"] {
            let bench = try await CLITests.troupe(["bench", "coordinator", "--slice", slice, "--writers", "4", "--writes", "20"], home: home, config: config)
            #expect(bench.status == 0, "\(bench.stderr)")
        }
        #expect(try await CLITests.troupe(["memory", "forget", "r2", "--reason", "test"], home: home, config: config).status == 0)

        let first = try await TestPostgres.freshLocation()
        let copy = try await CLITests.troupe(
            ["migrate", "--to", first.url, "--schema", first.schema!, "--json"], home: home, config: config)
        #expect(copy.status == 0, "\(copy.stderr)")
        let report = try CoordinationCLITests.json(copy.stdout)
        #expect(report["verified"] as? Bool == true)
        let checks = try #require(report["checks"] as? [[String: Any]])
        let tables = Set(checks.filter { ($0["target_count"] as? Int ?? 0) > 0 }.compactMap { $0["table"] as? String })
        #expect(tables == ["records", "versions", "forgotten", "audit", "lost", "links"], "\(tables)")

        // Killed once rows have landed, then run again: it goes on and verifies.
        let second = try await TestPostgres.freshLocation()
        let running = try await CLITests.start(["migrate", "--to", second.url, "--schema", second.schema!, "--batch-size", "100"], home: home, config: config)
        let target = try await TestPostgres.open(second, connections: 1, sealer: try TestVault.sealer(home: home))
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, running.process.isRunning {
            if let n = try? await target.stats().total, n > 2000 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await CLITests.kill(running)
        #expect(running.process.terminationReason == .uncaughtSignal, "the copy finished before it could be killed")
        let resumed = try await CLITests.troupe(["migrate", "--to", second.url, "--schema", second.schema!], home: home, config: config)
        #expect(resumed.status == 0 && resumed.stdout.contains("verified: both stores"), "\(resumed.stdout)\(resumed.stderr)")

        // Back to a new SQLite file.
        let back = home.appendingPathComponent("back.sqlite").path
        let returned = try await CLITests.troupe(
            ["migrate", "--from", first.url, "--schema", first.schema!, "--to", "sqlite:" + back], home: home, config: config)
        #expect(returned.status == 0 && returned.stdout.contains("verified: both stores"), "\(returned.stdout)\(returned.stderr)")
        // A target with other memories is refused.
        let refused = try await CLITests.troupe(["migrate", "--to", "sqlite:" + back], home: home, config: config)
        #expect(refused.status == 1 && refused.stderr.contains("being filled from"), "\(refused.stderr)")
    }

    /// A SQLite home mirrored to PostgreSQL: every command's writes reach the mirror, a damaged
    /// mirror is found and repaired by `troupe reconcile`, and a mirror that is down stops no write.
    @Test func aMirrorFollowsEveryWriteAndReconcileRepairsIt() async throws {
        let home = try CLITests.tempHome()
        let location = try await TestPostgres.freshLocation()
        func config(mirror url: String) throws -> URL {
            let file = home.appendingPathComponent("troupe-\(abs(url.hashValue)).yaml")
            let text = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
                .replacingOccurrences(of: "storage:\n", with: "storage:\n  mirror: \(url)\n  mirror_schema: \(location.schema!)\n")
                .replacingOccurrences(of: "  mode: managed", with: "  mode: off")
            try text.writeUnsynced(to: file)
            return file
        }
        let mirrored = try config(mirror: location.url)
        for fact in ["the launch is on Tuesday", "the review is on Friday", "the retro is on Monday"] {
            let add = try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", fact], home: home, config: mirrored)
            #expect(add.status == 0, "\(add.stderr)")
        }
        let mirror = try await TestPostgres.open(location, connections: 1, sealer: try TestVault.sealer(home: home))
        let facts = try await mirror.query(MemoryQuery(owners: ["athena"], slices: [.semantic]))
        #expect(facts.map(\.content).sorted() == ["the launch is on Tuesday", "the retro is on Monday", "the review is on Friday"])
        // A recall marks records as used (bookkeeping the mirror does not follow), and a shadow
        // read of the mirror finds the same answer.
        let shadow = try await CLITests.troupe(["memory", "recall", "--persona", "athena", "--shadow", "when is the launch"], home: home, config: mirrored)
        #expect(shadow.status == 0 && shadow.stderr.contains("shadow read: the mirror gives the same"), "\(shadow.stderr)")
        let doctor = try await CLITests.troupe(["doctor"], home: home, config: mirrored)
        #expect(doctor.stdout.contains("[ok  ] mirror") && doctor.stdout.contains("caught up with the primary"), "\(doctor.stdout)")
        let same = try await CLITests.troupe(["reconcile"], home: home, config: mirrored)
        #expect(same.status == 0 && same.stdout.contains("the mirror equals the primary"), "\(same.stdout)\(same.stderr)")

        // Damaged behind the runtime's back: found, then repaired.
        _ = try await mirror.forget(try #require(facts.first).id, reason: "damage", at: Date())
        let found = try await CLITests.troupe(["reconcile", "--json"], home: home, config: mirrored)
        #expect(found.status == 1, "\(found.stderr)")
        let tables = try #require(try CoordinationCLITests.json(found.stdout)["tables"] as? [[String: Any]])
        #expect(tables.first { $0["table"] as? String == "records" }?["missing"] as? Int == 1)
        #expect(tables.first { $0["table"] as? String == "forgotten" }?["extra"] as? Int == 1)
        #expect(try await CLITests.troupe(["reconcile", "--repair"], home: home, config: mirrored).status == 0)
        #expect(try await CLITests.troupe(["reconcile"], home: home, config: mirrored).status == 0)

        // A mirror that is down: the write lands in the primary, with a warning.
        let down = try config(mirror: "postgres://troupe@127.0.0.1:\(try FreePort.find())/postgres")
        let add = try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "written while the mirror is down"], home: home, config: down)
        #expect(add.status == 0 && add.stderr.contains("mirror"), "\(add.stderr)")
        let unreachable = try await CLITests.troupe(["doctor"], home: home, config: down)
        #expect(unreachable.stdout.contains("[warn] mirror") && unreachable.stdout.contains("cannot reach the store"), "\(unreachable.stdout)")
        let show = try await CLITests.troupe(["memory", "recall", "--persona", "athena", "written while the mirror is down"], home: home, config: down)
        #expect(show.stdout.contains("written while the mirror is down"))
        // Once it is back, the next command brings it up to date.
        #expect(try await CLITests.troupe(["memory", "stats"], home: home, config: mirrored).status == 0)
        #expect(try await mirror.query(MemoryQuery(owners: ["athena"], slices: [.semantic])).count == 4)
    }
}
