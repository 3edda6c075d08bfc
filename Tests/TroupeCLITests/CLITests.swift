import Foundation
import Testing
import TroupeCore
import TroupeStore

/// End-to-end tests of the real `troupe` binary built next to this test bundle.
@Suite("troupe CLI", .serialized)
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

    /// Runs troupe with a home of its own and this repository's config (or `config`), in the
    /// home (or `directory`).
    static func troupe(_ args: [String], home: URL, config: URL? = nil, in directory: URL? = nil, stdin: URL? = nil) throws -> Run {
        let process = try start(args, home: home, config: config, in: directory, stdin: stdin)
        let out = process.out.fileHandleForReading.readDataToEndOfFile()
        let err = process.err.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return Run(status: process.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    static func start(_ args: [String], home: URL, config: URL? = nil, in directory: URL? = nil, stdin: URL? = nil) throws
        -> (process: Process, out: Pipe, err: Pipe)
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--home", home.path, "--config", (config ?? repo.appendingPathComponent("Config/troupe.yaml")).path] + args
        process.currentDirectoryURL = directory ?? home
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        // HOME too, so the user-wide model in ~/.troupe/models is not found: these tests run on
        // the hashing fallback (fast, and the same on every machine).
        process.environment = ProcessInfo.processInfo.environment.merging(["HOME": home.path]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Stops the home's managed redis-server (commands started it) and removes the home.
    static func removeHome(_ home: URL) {
        ManagedRedis(home: home).stop()
        try? FileManager.default.removeItem(at: home)
    }

    static func tempHome() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func twoProcessesWritingAtOnceNeverSeeALockedDatabase() async throws {
        let home = try Self.tempHome()
        defer { CLITests.removeHome(home) }
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for p in 0..<2 {
                group.addTask {
                    var failed: [String] = []
                    for i in 0..<200 {
                        let run = try Self.troupe(["memory", "add", "--persona", "artemis", "--slice", "episodic", "process \(p) write \(i)"], home: home)
                        if run.status != 0 { failed.append(run.stderr) }
                    }
                    return failed
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let store = try SQLiteStore(path: home.appendingPathComponent("memory.sqlite").path)
        let episodic = try await store.query(MemoryQuery(owners: ["artemis"], slices: [.episodic]))
        #expect(episodic.count == 400)
        #expect(Set(episodic.map(\.content)).count == 400)
    }

    @Test func sigkillMidImportLeavesAConsistentStoreAndARerunCompletesIt() async throws {
        let home = try Self.tempHome()
        defer { CLITests.removeHome(home) }
        let file = home.appendingPathComponent("big.jsonl")
        let lines = 200_000
        var text = ""
        text.reserveCapacity(lines * 120)
        for i in 0..<lines {
            text += "{\"persona\":\"seshat\",\"slice\":\"episodic\",\"content\":\"note \(i) about the release checklist\",\"created_at\":\"2026-01-01T00:00:00Z\",\"importance\":0.3}\n"
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let dbPath = home.appendingPathComponent("memory.sqlite").path

        // The store's crash consistency is the point here; embedding 200K memories is not.
        let running = try Self.start(["memory", "import", file.path, "--batch-size", "1000", "--no-embed"], home: home)
        // Kill it once some batches have committed and before it finishes.
        var seen = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, running.process.isRunning {
            if FileManager.default.fileExists(atPath: dbPath), let store = try? SQLiteStore(path: dbPath) {
                seen = (try? await store.query(MemoryQuery(owners: ["seshat"], slices: [.episodic], limit: 1500)).count) ?? 0
                if seen > 0 { break }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        #expect(running.process.terminationReason == .uncaughtSignal, "the import finished before it could be killed")

        let store = try SQLiteStore(path: dbPath)
        #expect(try await store.integrityProblems() == [])
        let partial = try await store.stats().buckets.first { $0.owner == "seshat" && $0.slice == .episodic }?.count ?? 0
        #expect(partial > 0 && partial < lines)
        #expect(partial % 1000 == 0, "only whole batches land")
        for r in try await store.query(MemoryQuery(owners: ["seshat"], slices: [.episodic], limit: 50)) {
            #expect(r.content.hasPrefix("note ") && r.content.hasSuffix(" about the release checklist"))
        }

        let rerun = try Self.troupe(["memory", "import", file.path, "--no-embed"], home: home)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("unchanged"))
        let after = try await store.stats().buckets.first { $0.owner == "seshat" && $0.slice == .episodic }?.count
        #expect(after == lines)
        #expect(try await store.integrityProblems() == [])
    }

    @Test func exportImportExportIsIdentical() async throws {
        let home = try Self.tempHome(), fresh = try Self.tempHome()
        defer { CLITests.removeHome(home); CLITests.removeHome(fresh) }
        #expect(try Self.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "--tag", "a", "--importance", "0.7", "Quotes \" and\nnew lines ✓"], home: home).status == 0)
        let input = home.appendingPathComponent("in.jsonl")
        try """
            {"id": "x1", "persona": "team-decisions", "slice": "semantic", "content": "shared fact", "metadata": {"k": [1, 2.5, true, null]}}
            {"persona": "hestia", "slice": "working", "content": "scratch", "created_at": "2026-02-03T04:05:06.789+01:00"}
            """.write(to: input, atomically: true, encoding: .utf8)
        #expect(try Self.troupe(["memory", "import", input.path], home: home).status == 0)
        let first = try Self.troupe(["memory", "export"], home: home)
        let dump = home.appendingPathComponent("dump.jsonl")
        try first.stdout.write(to: dump, atomically: true, encoding: .utf8)
        let imported = try Self.troupe(["memory", "import", "--keep-source", dump.path], home: fresh)
        #expect(imported.status == 0, "\(imported.stderr)")
        let second = try Self.troupe(["memory", "export"], home: fresh)
        #expect(first.stdout.split(separator: "\n").count >= 38)
        #expect(second.stdout == first.stdout)
    }

    @Test func anInvalidImportImportsNothingAndNamesLinesAndFields() throws {
        let home = try Self.tempHome()
        defer { CLITests.removeHome(home) }
        let input = home.appendingPathComponent("bad.jsonl")
        try """
            {"persona": "athena", "slice": "semantic", "content": "fine"}
            {"persona": "athena", "slice": "semntic", "content": "typo"}

            {"persona": "zeus", "slice": "semantic", "content": "who"}
            not json
            {"persona": "athena", "slice": "semantic", "content": "x", "importance": 3}
            """.write(to: input, atomically: true, encoding: .utf8)
        let run = try Self.troupe(["memory", "import", input.path], home: home)
        #expect(run.status == 1)
        #expect(run.stderr.contains("bad.jsonl:2: error: field 'slice': 'semntic' is not a slice"))
        #expect(run.stderr.contains("bad.jsonl:4: error: field 'persona': unknown persona or shared slice 'zeus'"))
        #expect(run.stderr.contains("bad.jsonl:5: error: not valid JSON"))
        #expect(run.stderr.contains("bad.jsonl:6: error: field 'importance'"))
        #expect(run.stdout.contains("nothing imported"))
        let stats = try Self.troupe(["memory", "stats", "--json"], home: home)
        #expect(!stats.stdout.contains("\"semantic\""))

        let skipping = try Self.troupe(["memory", "import", input.path, "--skip-invalid"], home: home)
        #expect(skipping.status == 0 && skipping.stdout.contains("1 new"))
    }

    @Test func aBrokenPersonaDirectoryStopsEveryCommandAndValidateExitsOne() throws {
        let home = try Self.tempHome()
        defer { CLITests.removeHome(home) }
        let personas = home.appendingPathComponent("Personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        try "name: athena\ndisplay_name: A\nrole: r\ndescription: d\nsystem_prompt: p\nmemroy: {}\n"
            .write(to: personas.appendingPathComponent("athena.yaml"), atomically: true, encoding: .utf8)
        let config = home.appendingPathComponent("troupe.yaml")
        try "personas: Personas\n".write(to: config, atomically: true, encoding: .utf8)
        func run(_ args: [String]) throws -> Run {
            let p = Process()
            p.executableURL = Self.binary
            p.arguments = ["--home", home.path, "--config", config.path] + args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            try p.run()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return Run(status: p.terminationStatus, stdout: "", stderr: String(decoding: e, as: UTF8.self))
        }
        let validate = try run(["personas", "validate"])
        #expect(validate.status == 1)
        #expect(validate.stderr.contains("athena.yaml:6:1: error: unknown key 'memroy' (did you mean 'memory'?)"))
        for args in [["personas", "list"], ["memory", "stats"], ["memory", "add", "--persona", "athena", "--slice", "working", "x"]] {
            let r = try run(args)
            #expect(r.status == 1 && r.stderr.contains("athena.yaml:6:1"), "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("memory.sqlite").path))
        #expect(try run(["memory", "recall"]).status == 2)
    }

    @Test func recallJSONAndQueriesFile() throws {
        let home = try Self.tempHome()
        defer { CLITests.removeHome(home) }
        _ = try Self.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "--importance", "0.9", "SQLite WAL is our durable store"], home: home)
        _ = try Self.troupe(["memory", "add", "--persona", "artemis", "--slice", "semantic", "SQLite is artemis's private note"], home: home)
        let run = try Self.troupe(["memory", "recall", "--persona", "athena", "--json", "durable sqlite"], home: home)
        let hits = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        #expect(hits?.first?["content"] as? String == "SQLite WAL is our durable store")
        #expect(hits?.allSatisfy { $0["persona"] as? String != "artemis" } == true, "a persona never recalls another's private slices")
        let components = hits?.first?["components"] as? [String: Any]
        // A fresh home has no model installed: the hashing fallback supplies the semantic part.
        #expect(Set(components?.keys.map { $0 } ?? []) == ["semantic", "lexical", "recency", "importance"])
        #expect(run.stderr.contains("hashing fallback"))

        let queries = home.appendingPathComponent("q.txt")
        try "durable sqlite\n\nnothing matches zzzz\n".write(to: queries, atomically: true, encoding: .utf8)
        let batch = try Self.troupe(["memory", "recall", "--persona", "athena", "--queries", queries.path], home: home)
        let lines = batch.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        // No word in common: whatever dense retrieval offers has no lexical part.
        #expect(second?["line"] as? Int == 3)
        let results = second?["results"] as? [[String: Any]] ?? []
        #expect(results.allSatisfy { (($0["components"] as? [String: Any])?["lexical"] as? [String: Any])?["value"] as? Double == 0 })
    }
}
