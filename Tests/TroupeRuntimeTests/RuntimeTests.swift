import Foundation
import Logging
import ServiceLifecycle
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupePostgres
import TroupeRetrieval
@testable import TroupeRuntime
@testable import TroupeSQLite
@testable import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// A home in a temporary directory with athena and hestia (members of `team`, keep-both),
/// opened as a runtime: the hashing embedder (no model files), Redis as asked.
struct Home: Sendable {
    let directory: TemporaryDirectory
    let runtime: Runtime

    /// Opens the runtime off the cooperative pool (``Runtime/opened(configuration:clock:ids:logger:embedsWrites:)``);
    /// on PostgreSQL, in a fresh schema of the test server unless `location` names one (the
    /// store of another home: another machine's process).
    init(
        redis: RuntimeConfig.Redis.Mode = .off, clock: any WallClock = SystemClock(), ids: any IDGenerator = RandomIDs(),
        storage: RuntimeConfig.Storage.Backend = .sqlite, location: PostgresLocation? = nil, logger: Logger = Logger(label: "troupe")
    ) async throws {
        directory = try TemporaryDirectory()
        var config = RuntimeConfig()
        config.redis.mode = redis
        if storage == .postgres {
            var shared = location
            if shared == nil { shared = try await TestPostgres.freshLocation() }
            guard let location = shared else { throw TroupeError(.invalidConfig, "no PostgreSQL location") }
            (config.storage.backend, config.storage.url, config.storage.schema) = (.postgres, location.url, location.schema)
        }
        config.embedder.path = directory.url.appendingPathComponent("no-model").path
        config.sharedSlices = [.init(name: "team", kind: .semantic, members: ["athena", "hestia"], policy: .keepBoth)]
        let personas: [PersonaDefinition] = [
            PersonaDefinition(name: "athena", priority: 60, procedural: [.init(kind: .rule, text: "Decide in writing.")], shared: ["team"]),
            PersonaDefinition(name: "hestia", priority: 40, shared: ["team"]),
        ]
        let location = ConfigLocation(
            configFile: nil, home: directory.url, personasDirectory: directory.url.appendingPathComponent("personas"))
        runtime = try await Runtime.opened(
            configuration: Configuration(location: location, runtime: config, personas: personas), clock: clock, ids: ids, logger: logger)
    }

    private init(directory: TemporaryDirectory, runtime: Runtime) { (self.directory, self.runtime) = (directory, runtime) }

    /// A second runtime of this home, as another process would open it.
    func another(clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "troupe")) async throws -> Home {
        Home(directory: directory, runtime: try await Runtime.opened(configuration: runtime.configuration, clock: clock, logger: logger))
    }

    /// Where the store is, on PostgreSQL.
    var postgresLocation: PostgresLocation? { (runtime.store as? PostgresStore)?.location }

    /// A second view of the home's SQLite file, as another process would open it.
    func reader() async throws -> SQLiteStore { try await TestSQLite.open(Runtime.databasePath(runtime.configuration)) }

    func stop() async {
        await runtime.shutdown()
        await runtime.managedRedis.stopOffThePool()
    }
}

@Suite("Runtime")
struct RuntimeTests {
    @Test func anOperatorForgetOfAHotRecordRemovesItFromRedis() async throws {
        let home = try await Home(redis: .managed)
        defer { Task { await home.stop() } }
        let athena = try await home.runtime.persona("athena")
        let note = try await athena.note("the standup moved to 9:30")
        let tier = try #require(await home.runtime.hotTier())
        #expect(try await tier.held("athena", .working)[note.id] != nil)

        _ = try await home.runtime.forget(note.id, reason: "operator")
        #expect(try await tier.held("athena", .working)[note.id] == nil)
        #expect(try await athena.workingMemory().isEmpty)
        await home.stop()
    }

    @Test func anImportedLiveWorkingMemoryLineIsHot() async throws {
        let home = try await Home(redis: .managed)
        defer { Task { await home.stop() } }
        let tier = try #require(await home.runtime.hotTier())
        #expect(await tier.ready())  // up before the import: only a write-through can put the line there
        let file = home.directory.url.appendingPathComponent("working.jsonl")
        let expires = Timestamp.format(Date().addingTimeInterval(3600))
        try """
            {"id":"w1","persona":"hestia","slice":"working","content":"rotate the key before friday","expires_at":"\(expires)"}
            {"id":"s1","persona":"hestia","slice":"semantic","content":"keys rotate every 90 days"}

            """.writeUnsynced(to: file)
        let report = try await home.runtime.importer(defaultOwner: nil).run(file: file)
        #expect(report.written.inserted == 2)
        #expect(try await tier.held("hestia", .working).keys.sorted() == ["w1"])
        #expect(try await home.runtime.record("s1").modelID == HashingEmbedder().modelID)
        await home.stop()
    }

    @Test func aRecordIsNeverVisibleWithoutItsVector() async throws {
        let home = try await Home()
        let reader = try await home.reader()
        let model = try #require(home.runtime.embedderChoice.modelID)
        let athena = try await home.runtime.persona("athena")
        let done = Flag()
        let writing = Task {
            defer { done.set() }
            for i in 0..<300 { _ = try await athena.remember("fact number \(i) about the deploy", in: .semantic) }
        }
        // Another connection looks while the writes go on: a record and its vector are one commit.
        var looks = 0, seenWithout = 0
        while !done.isSet {
            seenWithout = max(seenWithout, try await reader.countWithoutVector(model: model))
            looks += 1
        }
        try await writing.value
        #expect(seenWithout == 0, "a reader saw \(seenWithout) records without their vector (in \(looks) looks)")
        #expect(try await reader.stats().total == 301)  // and the seed
        await home.stop()
    }

    @Test func aSeededRunGivesTheSameIdsAndTheSameExportByteForByte() async throws {
        func run(seed: UInt64) async throws -> (ids: [String], export: String) {
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
            let home = try await Home(clock: clock, ids: SeededIDs(seed: seed))
            let runtime = home.runtime
            try await runtime.seedProceduralMemory()
            let athena = try await runtime.persona("athena"), hestia = try await runtime.persona("hestia")
            var ids: [String] = []
            ids.append(try await athena.remember("Postgres is the server store", in: .semantic).id)
            clock.advance(by: 5)
            ids.append(try await athena.note("review the migration at noon").id)
            clock.advance(by: 5)
            let decision = try await athena.share("Use SQLite for one machine.", in: "team")
            ids.append(decision.current.id)
            clock.advance(by: 5)
            _ = try await athena.update(decision.current.id, basedOn: 1, change: MemoryChange(content: "Use SQLite in WAL mode."))
            // Stale: keep-both makes a linked record, and the audit log numbers it.
            let both = try await hestia.update(decision.current.id, basedOn: 1, change: MemoryChange(content: "Use Postgres."))
            ids.append(both.sibling?.id ?? "none")
            clock.advance(by: 5)
            _ = try await athena.recall("which store", limit: 3)
            let gone = try await hestia.remember("a secret to forget", in: .episodic)
            _ = try await hestia.forget(gone.id)
            var export = ""
            try await runtime.export(MemoryQuery()) { export += $0 }
            await runtime.shutdown()
            return (ids, export)
        }
        let first = try await run(seed: 7), second = try await run(seed: 7)
        #expect(first.ids == second.ids)
        #expect(first.export == second.export)
        #expect(first.export.contains("Use Postgres.") && first.export.contains("\"version\":2"))
        let other = try await run(seed: 8)
        #expect(other.ids != first.ids)
    }

    @Test func aRunningRuntimeCommitsWhatItAcknowledgedWhenShutDown() async throws {
        let home = try await Home()
        let group = ServiceGroup(services: [home.runtime], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let athena = try await home.runtime.persona("athena")
        let acknowledged = try await withThrowingTaskGroup(of: String?.self) { writers in
            for i in 0..<40 {
                writers.addTask { try? await athena.share("decision \(i)", in: "team").current.id }
            }
            await group.triggerGracefulShutdown()
            return try await writers.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        try await running.value
        let reader = try await home.reader()
        let found = try await reader.records(ids: acknowledged)
        #expect(!acknowledged.isEmpty)
        #expect(found.count == acknowledged.count)
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let value = LockedBox(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.value }
}
