import Foundation
import Logging
import Testing
import TroupeConfig
import TroupeCore
import TroupeStoreConformance
@testable import TroupeRuntime

/// Log messages, kept for a test to read.
final class LogLines: Sendable {
    private let lines = LockedBox<[String]>([])

    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.value }

    /// A logger that writes here.
    var logger: Logger {
        Logger(label: "test") { _ in Handler(lines: self) }
    }

    struct Handler: LogHandler {
        let lines: LogLines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.add("\(event.level): \(event.message)") }
    }
}

@Suite("Persona files dropped in while the runtime runs")
struct DefinitionWatchTests {
    static func persona(_ name: String, role: String) -> String {
        """
        name: \(name)
        display_name: \(name.capitalized)
        role: \(role)
        description: A persona for the watch test.
        system_prompt: You help.

        """
    }

    @Test func newChangedBrokenAndRemovedPersonaFiles() async throws {
        let directory = try TemporaryDirectory()
        let home = directory.url, personas = home.appendingPathComponent("personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        let config = home.appendingPathComponent("troupe.yaml")
        try "personas: personas\nredis:\n  mode: off\nembedder:\n  path: no-model\n".writeUnsynced(to: config)
        try Self.persona("athena", role: "strategy").writeUnsynced(to: personas.appendingPathComponent("athena.yaml"))
        let log = LogLines()
        let runtime = try await Runtime.open(configFlag: config.path, homeFlag: home.path, logger: log.logger)
        let running = Task { try await runtime.run() }
        defer { running.cancel() }

        // A new file: validated and loaded.
        let newFile = personas.appendingPathComponent("nike.yaml")
        try Self.persona("nike", role: "victory").writeUnsynced(to: newFile)
        #expect(await eventually { (try? runtime.definition("nike"))?.role == "victory" })
        let nike = try await runtime.persona("nike")
        let memory = try await nike.remember("the race is on sunday", in: .semantic)

        // A changed file: the new definition is in force, and the actor follows it.
        try Self.persona("nike", role: "speed").writeUnsynced(to: newFile)
        #expect(await eventually { (try? runtime.definition("nike"))?.role == "speed" })
        #expect(try await runtime.persona("nike").definition.role == "speed")

        // A broken file: reported with its position, and the previous definition stays.
        try "name: nike\nrole: [broken\n".writeUnsynced(to: newFile)
        #expect(await eventually { log.all.contains { $0.hasPrefix("error: ") && $0.contains("nike.yaml:") } })
        let report = try #require(log.all.first { $0.hasPrefix("error: ") && $0.contains("nike.yaml:") })
        #expect(report.range(of: #"nike\.yaml:\d+:\d+: error"#, options: .regularExpression) != nil, "\(report)")
        #expect((try? runtime.definition("nike"))?.role == "speed")

        // A removed file: no more turns, and the memory stays.
        try FileManager.default.removeItem(at: newFile)
        #expect(await eventually { (try? runtime.definition("nike")) == nil })
        let error = await #expect(throws: TroupeError.self) { _ = try await runtime.persona("nike") }
        #expect(error?.message.contains("was removed") == true)
        #expect(try await runtime.record(memory.id).content == "the race is on sunday")
        #expect(try runtime.definition("athena").role == "strategy")
        running.cancel()
        try await running.value
    }
}
