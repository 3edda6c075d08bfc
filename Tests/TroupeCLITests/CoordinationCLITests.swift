import Foundation
import Testing
import TroupeCore
import TroupePostgres
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// Shared slices, conflicts and isolation through the real binary, including two processes
/// writing to one home at once.
@Suite("troupe coordination CLI", .serialized, .cleanups)
struct CoordinationCLITests {
    /// Four personas (ana 80, ben 40, cy 40, dee 10), one shared slice per policy with all four,
    /// and `pair` of ana and ben only.
    static let priorities = ["ana": 80, "ben": 40, "cy": 40, "dee": 10]
    static let slices: [String: ConflictPolicy] = ["lww": .lastWriterWins, "prio": .priority, "both": .keepBoth, "reject": .reject]

    /// The store the team's home writes to: its SQLite file (and Redis off), or a fresh schema
    /// on the test PostgreSQL server, with the managed Redis, which every process of the home
    /// shares.
    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
        /// How many processes the cross-process test runs, with four writers each.
        var processes: Int { self == .sqlite ? 2 : 4 }
    }

    static func team(on backend: Backend = .sqlite) async throws -> (home: URL, config: URL) {
        let home = try CLITests.tempHome()
        let personas = home.appendingPathComponent("personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        for (name, priority) in priorities {
            let shared = (Array(slices.keys) + (name == "ana" || name == "ben" ? ["pair"] : [])).sorted()
            try """
                name: \(name)
                display_name: \(name.capitalized)
                role: tester
                description: A persona of the coordination tests.
                system_prompt: You test.
                priority: \(priority)
                shared: [\(shared.joined(separator: ", "))]

                """.writeUnsynced(to: personas.appendingPathComponent("\(name).yaml"))
        }
        let members = priorities.keys.sorted().joined(separator: ", ")
        let config = home.appendingPathComponent("troupe.yaml")
        let storage: String
        switch backend {
        case .sqlite: storage = "redis:\n  mode: off\n"
        case .postgres:
            let location = try await TestPostgres.freshLocation()
            storage = "storage:\n  backend: postgres\n  url: \(location.url)\n  schema: \(location.schema!)\nredis:\n  mode: managed\n"
        }
        try ("personas: personas\n" + storage + """
            shared_slices:
              - name: pair
                kind: semantic
                members: [ana, ben]
                policy: last-writer-wins

            """ + slices.keys.sorted().map { name in
                """
                  - name: \(name)
                    kind: semantic
                    members: [\(members)]
                    policy: \(slices[name]!.rawValue)

                """
            }.joined()).writeUnsynced(to: config)
        return (home, config)
    }

    /// The store a team's home writes to, opened in this process (off the pool).
    static func store(of home: URL, config: URL) async throws -> any MemoryStore {
        let text = try String(contentsOf: config, encoding: .utf8)
        guard let url = text.split(separator: "\n").first(where: { $0.hasPrefix("  url: ") })?.dropFirst(7),
            let schema = text.split(separator: "\n").first(where: { $0.hasPrefix("  schema: ") })?.dropFirst(10)
        else { return try await TestSQLite.open(home.appendingPathComponent("memory.sqlite").path, sealer: try TestVault.sealer(home: home)) }
        return try await TestPostgres.open(PostgresLocation(url: String(url), schema: String(schema)), connections: 2, sealer: try TestVault.sealer(home: home))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Two processes on SQLite, four on PostgreSQL with one Redis; 1200 writes in all.
    @Test(arguments: Backend.allCases, ConflictPolicy.allCases)
    func processesWritingOneSharedSliceObeyItsPolicy(backend: Backend, policy: ConflictPolicy) async throws {
        let (home, config) = try await Self.team(on: backend)
        let slice = Self.slices.first { $0.value == policy }!.key
        let seed = home.appendingPathComponent("seed.jsonl")
        try (0..<3).map { #"{"id": "r\#($0)", "persona": "\#(slice)", "slice": "semantic", "content": "record \#($0) as imported"}"# }
            .joined(separator: "\n").writeUnsynced(to: seed)
        #expect(try await CLITests.troupe(["memory", "import", seed.path, "--no-embed"], home: home, config: config).status == 0)

        // The processes, four writers each, 1200 writes in all, over the same three records,
        // starting at the same moment (a few seconds ahead, so that all are up by then).
        let startAt = String(Int64((Date().timeIntervalSince1970 + 3) * 1000))
        var runs: [CLITests.Running] = []
        for _ in 0..<backend.processes {
            runs.append(try await CLITests.start(
                ["bench", "coordinator", "--slice", slice, "--writers", "4", "--writes", String(300 / backend.processes), "--start-at", startAt, "--json"],
                home: home, config: config))
        }
        var outcomes: [String: Int] = [:]
        for running in runs {
            let run = try await CLITests.finish(running)
            #expect(run.status == 0, "\(run.stderr)")
            let line = try Self.json(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            for (kind, count) in try #require(line["outcomes"] as? [String: Int]) { outcomes[kind, default: 0] += count }
        }
        #expect(outcomes.values.reduce(0, +) == 1200)
        let conflicts = 1200 - (outcomes["applied"] ?? 0)

        let store = try await Self.store(of: home, config: config)
        let audit = try await store.audit(AuditQuery(slice: PersonaID(rawValue: slice)))
        #expect(audit.count == conflicts && conflicts > 0, "\(outcomes)")
        var histories: [String: RecordHistory] = [:]
        for id in ["r0", "r1", "r2"] { histories[id] = try await store.history(id) }
        for link in histories.values.flatMap(\.links) { histories[link.other] = try await store.history(link.other) }
        // Every value both processes wrote is a version, a lost value or a linked record, once.
        let written = histories.values.flatMap { $0.versions.map(\.content) + $0.lost.map(\.content) }.filter { $0.hasPrefix("process ") }
        #expect(written.count == 1200 && Set(written).count == 1200)
        // The two processes really wrote at the same time: some record's versions alternate
        // between them.
        let writers = histories.values.map { $0.versions.map { $0.content.split(separator: " ").prefix(2).joined(separator: " ") } }
        let alternations = writers.map { zip($0, $0.dropFirst()).filter { $0.hasPrefix("process") && $1.hasPrefix("process") && $0 != $1 }.count }
        #expect(alternations.reduce(0, +) > 0, "the two processes did not overlap")

        switch policy {
        case .lastWriterWins:
            #expect(outcomes["overwrote"] == conflicts)
        case .reject:
            #expect(outcomes["rejected"] == conflicts && histories.values.flatMap(\.lost).count == conflicts)
        case .keepBoth:
            #expect(outcomes["kept-both"] == conflicts)
            #expect(try await store.query(MemoryQuery(owners: [PersonaID(rawValue: slice)!])).count == 3 + conflicts)
        case .priority:
            for entry in audit {
                let found = try #require(histories[entry.record]?.versions.first { $0.version == entry.currentVersion })
                let writer = Self.priorities[entry.writer] ?? 0, holder = Self.priorities[found.source] ?? 0
                #expect(entry.outcome == (writer >= holder ? .overwrite : .keepCurrent), "audit #\(entry.seq)")
            }
        }
    }

    @Test func aPersonaCannotReachAnotherPersonasMemory() async throws {
        let (home, config) = try await Self.team()
        func troupe(_ args: String...) async throws -> CLITests.Run { try await CLITests.troupe(args, home: home, config: config) }
        let added = try await troupe("memory", "add", "--persona", "ana", "--slice", "semantic", "--json", "The vault code is 4711")
        let id = try #require(try Self.json(added.stdout)["id"] as? String)

        for args in [["memory", "show", id], ["memory", "history", id], ["memory", "forget", id],
                     ["memory", "update", id, "--base-version", "1", "changed"]] {
            let denied = try await CLITests.troupe(args + ["--persona", "ben"], home: home, config: config)
            #expect(denied.status == 1 && denied.stderr.contains("ben may not touch this record"), "\(args[1]): \(denied.stderr)")
        }
        let recalled = try await troupe("memory", "recall", "--persona", "ben", "--json", "vault code 4711")
        #expect(recalled.status == 0 && !recalled.stdout.contains(id))
        let outsider = try await troupe("memory", "add", "--persona", "dee", "--shared", "pair", "let me in")
        #expect(outsider.status == 1 && outsider.stderr.contains("dee is not a member of the shared slice 'pair'"))

        // The owner still reaches it, unchanged.
        let shown = try await troupe("memory", "show", id, "--persona", "ana", "--json")
        #expect(try Self.json(shown.stdout)["content"] as? String == "The vault code is 4711")
        #expect(try await troupe("memory", "recall", "--persona", "ana", "--json", "vault code 4711").stdout.contains(id))
    }

    @Test func staleUpdatesAreResolvedShownAndAudited() async throws {
        let (home, config) = try await Self.team()
        func troupe(_ args: String...) async throws -> CLITests.Run { try await CLITests.troupe(args, home: home, config: config) }
        let id = try #require(try await Self.json(troupe("memory", "add", "--persona", "ben", "--shared", "prio", "--json", "Ship on Friday").stdout)["id"] as? String)
        #expect(try await troupe("memory", "update", id, "--persona", "ana", "--base-version", "1", "Ship on Monday").stdout.contains("is now version 2"))
        // dee (10) writes on version 1, which ana (80) replaced: ana's value stays.
        let lost = try await troupe("memory", "update", id, "--persona", "dee", "--base-version", "1", "Ship today")
        #expect(lost.status == 0 && lost.stdout.contains("stays at version 2 by ana"), "\(lost.stdout)\(lost.stderr)")
        let history = try await Self.json(troupe("memory", "history", id, "--persona", "cy", "--json").stdout)
        let lostValues = try #require(history["lost"] as? [[String: Any]])
        #expect(lostValues.count == 1 && lostValues[0]["writer"] as? String == "dee" && lostValues[0]["content"] as? String == "Ship today")
        #expect(try await troupe("memory", "history", id, "--persona", "cy").stdout.contains("by dee, based on v1: lost to the current version"))
        let audit = try #require(try await JSONSerialization.jsonObject(with: Data(troupe("audit", "--slice", "prio", "--json").stdout.utf8)) as? [[String: Any]])
        #expect(audit.count == 1 && audit[0]["outcome"] as? String == "kept-current" && audit[0]["writer"] as? String == "dee")

        // Under `reject` the stale writer is told, with the version to retry on.
        let other = try #require(try await Self.json(troupe("memory", "add", "--persona", "cy", "--shared", "reject", "--json", "Freeze at noon").stdout)["id"] as? String)
        _ = try await troupe("memory", "update", other, "--persona", "ana", "--base-version", "1", "Freeze at one")
        let refused = try await troupe("memory", "update", other, "--persona", "ben", "--base-version", "1", "Freeze at two")
        #expect(refused.status == 1 && refused.stderr.contains("is at version 2"), "\(refused.stderr)")
        #expect(try await troupe("memory", "show", other, "--json").stdout.contains("Freeze at one"))
        #expect(try await troupe("audit").stdout.contains("rejected"))
    }
}
