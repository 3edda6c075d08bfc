import Foundation
import Testing
import TroupeCore
import TroupeRedis
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport
import TroupeVault

/// End-to-end tests of the real `troupe` binary built next to this test bundle.
@Suite("troupe CLI", .serialized, .cleanups)
struct CLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["TROUPE_BIN"] { return URL(fileURLWithPath: path) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("troupe")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repo.appendingPathComponent(".build/debug/troupe")
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// A troupe process that ``start(_:home:config:in:stdin:)`` launched; its pipes are not read yet.
    typealias Running = (process: Process, out: Pipe, err: Pipe)

    /// Runs troupe with a home of its own and this repository's config (or `config`), in the
    /// home (or `directory`), and waits for it. A run lasts from a tenth of a second to minutes:
    /// it is waited for off the cooperative pool, which the other tests need meanwhile.
    static func troupe(
        _ args: [String], home: URL, config: URL? = nil, in directory: URL? = nil, stdin: URL? = nil, environment: [String: String] = [:]
    ) async throws -> Run {
        try await finish(try await start(args, home: home, config: config, in: directory, stdin: stdin, environment: environment))
    }

    /// Launches troupe as ``troupe(_:home:config:in:stdin:)`` does, without waiting for it.
    static func start(
        _ args: [String], home: URL, config: URL? = nil, in directory: URL? = nil, stdin: URL? = nil, environment: [String: String] = [:]
    ) async throws -> Running {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--home", home.path, "--config", (config ?? repo.appendingPathComponent("Config/troupe.yaml")).path] + args
        process.currentDirectoryURL = directory ?? home
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        // HOME too, so the user-wide model in ~/.troupe/models is not found: these tests run on
        // the hashing fallback (fast, and the same on every machine).
        process.environment = ProcessInfo.processInfo.environment.merging(["HOME": home.path]) { $1 }.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try await offThePool("troupe-test.launch") { try process.run() }
        return (process, out, err)
    }

    /// Reads a started process's output to its end and waits for it to exit, off the pool. Its
    /// stderr is read on a thread of its own while stdout is read, so that a child that fills
    /// one pipe (64 KB) while the other is being read cannot stall.
    static func finish(_ running: Running) async throws -> Run {
        async let err = offThePool("troupe-test.stderr") { running.err.fileHandleForReading.readDataToEndOfFile() }
        let out = try await offThePool("troupe-test.stdout") { running.out.fileHandleForReading.readDataToEndOfFile() }
        let errors = try await err
        try await offThePool("troupe-test.wait") { running.process.waitUntilExit() }
        return Run(status: running.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: errors, as: UTF8.self))
    }

    /// Kills a started process (SIGKILL) and waits for it to be gone, off the pool.
    static func kill(_ running: Running) async throws {
        Glibc.kill(running.process.processIdentifier, SIGKILL)
        try await offThePool("troupe-test.wait") { running.process.waitUntilExit() }
    }

    /// Stops the home's managed redis-server (commands started it) and removes the home, off
    /// the pool: the stop waits for the server to exit, and a home may hold large files.
    static func removeHome(_ home: URL) async {
        _ = try? await offThePool("troupe-test.remove-home") {
            ManagedRedis(home: home).stop()
            try? FileManager.default.removeItem(at: home)
        }
    }

    /// A new, empty home, removed after the test (with ``removeHome(_:)``; every CLI suite has
    /// the `.cleanups` trait), also when the test throws. With `TROUPE_TEST_ENCRYPTED_HOMES=1`
    /// (one pass of Scripts/test) every such home is encrypted from the start: it has a vault,
    /// and its store is sealed from the first write.
    static func tempHome(encrypted: Bool = encryptedHomes) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        Cleanups.add { await removeHome(url) }
        if encrypted {
            let vault = Vault.directory(home: url)
            try Vault.create(directory: vault, source: .file(Vault.keyFile(home: url)))
        }
        return url
    }

    static let encryptedHomes = ProcessInfo.processInfo.environment["TROUPE_TEST_ENCRYPTED_HOMES"] == "1"

    @Test func twoProcessesWritingAtOnceNeverSeeALockedDatabase() async throws {
        let home = try Self.tempHome()
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for p in 0..<2 {
                group.addTask {
                    var failed: [String] = []
                    for i in 0..<200 {
                        let run = try await Self.troupe(["memory", "add", "--persona", "artemis", "--slice", "episodic", "process \(p) write \(i)"], home: home)
                        if run.status != 0 { failed.append(run.stderr) }
                    }
                    return failed
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let store = try await TestSQLite.open(home.appendingPathComponent("memory.sqlite").path, sealer: try TestVault.sealer(home: home))
        let episodic = try await store.query(MemoryQuery(owners: ["artemis"], slices: [.episodic]))
        #expect(episodic.count == 400)
        #expect(Set(episodic.map(\.content)).count == 400)
    }

    @Test func sigkillMidImportLeavesAConsistentStoreAndARerunCompletesIt() async throws {
        let home = try Self.tempHome()
        let file = home.appendingPathComponent("big.jsonl")
        let lines = 200_000
        // 24 MB of JSONL: seconds of work in a debug build, done off the pool.
        try await offThePool("troupe-test.write-input") {
            var text = ""
            text.reserveCapacity(lines * 120)
            for i in 0..<lines {
                text += "{\"persona\":\"seshat\",\"slice\":\"episodic\",\"content\":\"note \(i) about the release checklist\",\"created_at\":\"2026-01-01T00:00:00Z\",\"importance\":0.3}\n"
            }
            try text.writeUnsynced(to: file)
        }
        let dbPath = home.appendingPathComponent("memory.sqlite").path

        // The store's crash consistency is the point here; embedding 200K memories is not.
        let running = try await Self.start(["memory", "import", file.path, "--batch-size", "1000", "--no-embed"], home: home)
        // Kill it once some batches have committed and before it finishes.
        var seen = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, running.process.isRunning {
            if FileManager.default.fileExists(atPath: dbPath), let store = try? await TestSQLite.open(dbPath, sealer: try TestVault.sealer(home: home)) {
                seen = (try? await store.query(MemoryQuery(owners: ["seshat"], slices: [.episodic], limit: 1500)).count) ?? 0
                if seen > 0 { break }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Self.kill(running)
        #expect(running.process.terminationReason == .uncaughtSignal, "the import finished before it could be killed")

        let store = try await TestSQLite.open(dbPath, sealer: try TestVault.sealer(home: home))
        #expect(try await store.integrityProblems() == [])
        let partial = try await store.stats().buckets.first { $0.owner == "seshat" && $0.slice == .episodic }?.count ?? 0
        #expect(partial > 0 && partial < lines)
        #expect(partial % 1000 == 0, "only whole batches land")
        for r in try await store.query(MemoryQuery(owners: ["seshat"], slices: [.episodic], limit: 50)) {
            #expect(r.content.hasPrefix("note ") && r.content.hasSuffix(" about the release checklist"))
        }

        let rerun = try await Self.troupe(["memory", "import", file.path, "--no-embed"], home: home)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("unchanged"))
        let after = try await store.stats().buckets.first { $0.owner == "seshat" && $0.slice == .episodic }?.count
        #expect(after == lines)
        #expect(try await store.integrityProblems() == [])
    }

    @Test func exportImportExportIsIdentical() async throws {
        let home = try Self.tempHome(), fresh = try Self.tempHome()
        #expect(try await Self.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "--tag", "a", "--importance", "0.7", "Quotes \" and\nnew lines ✓"], home: home).status == 0)
        let input = home.appendingPathComponent("in.jsonl")
        try """
            {"id": "x1", "persona": "team-decisions", "slice": "semantic", "content": "shared fact", "metadata": {"k": [1, 2.5, true, null]}}
            {"persona": "hestia", "slice": "working", "content": "scratch", "created_at": "2026-02-03T04:05:06.789+01:00"}
            """.writeUnsynced(to: input)
        #expect(try await Self.troupe(["memory", "import", input.path], home: home).status == 0)
        let first = try await Self.troupe(["memory", "export"], home: home)
        let dump = home.appendingPathComponent("dump.jsonl")
        try first.stdout.writeUnsynced(to: dump)
        let imported = try await Self.troupe(["memory", "import", "--keep-source", dump.path], home: fresh)
        #expect(imported.status == 0, "\(imported.stderr)")
        let second = try await Self.troupe(["memory", "export"], home: fresh)
        #expect(first.stdout.split(separator: "\n").count >= 38)
        #expect(second.stdout == first.stdout)
    }

    @Test func anInvalidImportImportsNothingAndNamesLinesAndFields() async throws {
        let home = try Self.tempHome()
        let input = home.appendingPathComponent("bad.jsonl")
        try """
            {"persona": "athena", "slice": "semantic", "content": "fine"}
            {"persona": "athena", "slice": "semntic", "content": "typo"}

            {"persona": "zeus", "slice": "semantic", "content": "who"}
            not json
            {"persona": "athena", "slice": "semantic", "content": "x", "importance": 3}
            """.writeUnsynced(to: input)
        let run = try await Self.troupe(["memory", "import", input.path], home: home)
        #expect(run.status == 1)
        #expect(run.stderr.contains("bad.jsonl:2: error: field 'slice': 'semntic' is not a slice"))
        #expect(run.stderr.contains("bad.jsonl:4: error: field 'persona': unknown persona or shared slice 'zeus'"))
        #expect(run.stderr.contains("bad.jsonl:5: error: not valid JSON"))
        #expect(run.stderr.contains("bad.jsonl:6: error: field 'importance'"))
        #expect(run.stdout.contains("nothing imported"))
        let stats = try await Self.troupe(["memory", "stats", "--json"], home: home)
        #expect(!stats.stdout.contains("\"semantic\""))

        let skipping = try await Self.troupe(["memory", "import", input.path, "--skip-invalid"], home: home)
        #expect(skipping.status == 0 && skipping.stdout.contains("1 new"))
    }

    @Test func aBrokenPersonaDirectoryStopsEveryCommandAndValidateExitsOne() async throws {
        let home = try Self.tempHome()
        let personas = home.appendingPathComponent("Personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        try "name: athena\ndisplay_name: A\nrole: r\ndescription: d\nsystem_prompt: p\nmemroy: {}\n"
            .writeUnsynced(to: personas.appendingPathComponent("athena.yaml"))
        let config = home.appendingPathComponent("troupe.yaml")
        try "personas: Personas\n".writeUnsynced(to: config)
        func run(_ args: [String]) async throws -> Run {
            let p = Process()
            p.executableURL = Self.binary
            p.arguments = ["--home", home.path, "--config", config.path] + args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            // Launched and waited for off the pool (see troupe(_:home:config:in:stdin:)).
            return try await offThePool("troupe-test.run") {
                try p.run()
                let e = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return Run(status: p.terminationStatus, stdout: "", stderr: String(decoding: e, as: UTF8.self))
            }
        }
        let validate = try await run(["personas", "validate"])
        #expect(validate.status == 1)
        #expect(validate.stderr.contains("athena.yaml:6:1: error: unknown key 'memroy' (did you mean 'memory'?)"))
        for args in [["personas", "list"], ["memory", "stats"], ["memory", "add", "--persona", "athena", "--slice", "working", "x"]] {
            let r = try await run(args)
            #expect(r.status == 1 && r.stderr.contains("athena.yaml:6:1"), "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("memory.sqlite").path))
        #expect(try await run(["memory", "recall"]).status == 2)
    }

    @Test func recallJSONAndQueriesFile() async throws {
        let home = try Self.tempHome()
        _ = try await Self.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "--importance", "0.9", "SQLite WAL is our durable store"], home: home)
        _ = try await Self.troupe(["memory", "add", "--persona", "artemis", "--slice", "semantic", "SQLite is artemis's private note"], home: home)
        let run = try await Self.troupe(["memory", "recall", "--persona", "athena", "--json", "durable sqlite"], home: home)
        let hits = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        #expect(hits?.first?["content"] as? String == "SQLite WAL is our durable store")
        #expect(hits?.allSatisfy { $0["persona"] as? String != "artemis" } == true, "a persona never recalls another's private slices")
        let components = hits?.first?["components"] as? [String: Any]
        // A fresh home has no model installed: the hashing fallback supplies the semantic part.
        #expect(Set(components?.keys.map { $0 } ?? []) == ["semantic", "lexical", "recency", "importance"])
        #expect(run.stderr.contains("hashing fallback"))

        let queries = home.appendingPathComponent("q.txt")
        try "durable sqlite\n\nnothing matches zzzz\n".writeUnsynced(to: queries)
        let batch = try await Self.troupe(["memory", "recall", "--persona", "athena", "--queries", queries.path], home: home)
        let lines = batch.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        // No word in common: whatever dense retrieval offers has no lexical part.
        #expect(second?["line"] as? Int == 3)
        let results = second?["results"] as? [[String: Any]] ?? []
        #expect(results.allSatisfy { (($0["components"] as? [String: Any])?["lexical"] as? [String: Any])?["value"] as? Double == 0 })
    }
}
