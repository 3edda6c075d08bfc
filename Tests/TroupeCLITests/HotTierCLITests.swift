import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// The hot tier through the real binary: the managed redis-server, `memory working`, what
/// `memory stats`, `doctor` and `redis` show, and a Redis that cannot be reached.
@Suite("troupe CLI: hot tier", .serialized, .cleanups)
struct HotTierCLITests {
    @Test func managedServerWorkingMemoryAndStats() async throws {
        let home = try CLITests.tempHome()
        #expect(try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "working", "the kettle is on"], home: home).status == 0)
        let status = try await CLITests.troupe(["redis", "status"], home: home)
        #expect(status.status == 0 && status.stdout.contains("running"), "\(status.stdout)")

        let working = try await CLITests.troupe(["memory", "working", "--persona", "athena", "--json"], home: home)
        guard case .array(let items) = try JSONValue.parse(Array(working.stdout.utf8)), case .object(let item) = items.first else {
            Issue.record("not a JSON array: \(working.stdout) \(working.stderr)")
            return
        }
        #expect(items.count == 1 && item["content"] == .string("the kettle is on"))

        for _ in 0..<2 { #expect(try await CLITests.troupe(["memory", "recall", "--persona", "athena", "--slice", "semantic", "plans"], home: home).status == 0) }
        let stats = try await CLITests.troupe(["memory", "stats", "--json"], home: home)
        guard case .object(let object) = try JSONValue.parse(Array(stats.stdout.utf8)), case .object(let tier) = object["hot_tier"] else {
            Issue.record("no hot_tier in \(stats.stdout)")
            return
        }
        #expect(tier["mode"] == .string("ready"))
        #expect(tier["hot_items"] == .object(["athena/working": .number(1)]))
        #expect(tier["cache_hits"] == .number(1) && tier["cache_misses"] == .number(1))
        let doctor = try await CLITests.troupe(["doctor"], home: home)
        #expect(doctor.stdout.contains("managed redis-server") && doctor.stdout.contains("athena/working 1"), "\(doctor.stdout)")

        // Stopped, it starts again on the next command that needs it, and the hot set is rebuilt.
        #expect(try await CLITests.troupe(["redis", "stop"], home: home).stdout.contains("stopped"))
        #expect(try await CLITests.troupe(["redis", "status"], home: home).stdout.contains("not running"))
        let again = try await CLITests.troupe(["memory", "working", "--persona", "athena"], home: home)
        #expect(again.status == 0 && again.stdout.contains("the kettle is on") && again.stderr.isEmpty, "\(again.stderr)")
        #expect(try await CLITests.troupe(["memory", "stats"], home: home).stdout.contains("1 working hot"))
    }

    @Test func anUnreachableRedisDegradesToSQLiteWithOneWarning() async throws {
        let home = try CLITests.tempHome()
        var config = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
        config = config.replacingOccurrences(of: "  mode: managed", with: "  mode: external\n  url: unix://\(home.path)/nobody-listens.sock")
        let file = home.appendingPathComponent("troupe.yaml")
        try config.writeUnsynced(to: file)

        let add = try await CLITests.troupe(["memory", "add", "--persona", "hestia", "--slice", "working", "written without redis"], home: home, config: file)
        #expect(add.status == 0)
        let recall = try await CLITests.troupe(["memory", "recall", "--persona", "hestia", "--slice", "semantic", "quality"], home: home, config: file)
        #expect(recall.status == 0)
        let working = try await CLITests.troupe(["memory", "working", "--persona", "hestia"], home: home, config: file)
        #expect(working.status == 0 && working.stdout.contains("written without redis"))
        for run in [add, recall, working] {
            let warnings = run.stderr.split(separator: "\n").filter { $0.contains("unreachable") }
            #expect(warnings.count == 1, "\(run.stderr)")
        }
        let stats = try await CLITests.troupe(["memory", "stats"], home: home, config: file)
        #expect(stats.stdout.contains("degraded"), "\(stats.stdout)")
        let doctor = try await CLITests.troupe(["doctor"], home: home, config: file)
        #expect(doctor.stdout.contains("unreachable"), "\(doctor.stdout)")
        // Nothing was lost: SQLite has the note.
        #expect(try await CLITests.troupe(["memory", "export", "--persona", "hestia", "--slice", "working"], home: home, config: file).stdout.contains("written without redis"))
    }
}
