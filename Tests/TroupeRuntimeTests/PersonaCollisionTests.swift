import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeStoreConformance
@testable import TroupeRuntime

/// A persona file whose `name:` another file already gives: while the runtime runs, the file in
/// force keeps the name and the newcomer is refused with an error naming both; at startup, the
/// runtime refuses to open with an error naming both.
@Suite("Two persona files that give one name")
struct PersonaCollisionTests {
    static func home() throws -> (directory: TemporaryDirectory, config: URL, personas: URL) {
        let directory = try TemporaryDirectory()
        let personas = directory.url.appendingPathComponent("personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        let config = directory.url.appendingPathComponent("troupe.yaml")
        try "personas: personas\nredis:\n  mode: off\nembedder:\n  path: no-model\n".writeUnsynced(to: config)
        try DefinitionWatchTests.persona("athena", role: "strategy").writeUnsynced(to: personas.appendingPathComponent("athena.yaml"))
        try DefinitionWatchTests.persona("hestia", role: "safety").writeUnsynced(to: personas.appendingPathComponent("hestia.yaml"))
        return (directory, config, personas)
    }

    @Test func aNewcomerTakingANameInForceIsRefusedAndTheDefinitionInForceStays() async throws {
        let (directory, config, personas) = try Self.home()
        let runtime = try await Runtime.open(configFlag: config.path, homeFlag: directory.url.path)
        // Sorted before hestia.yaml: validation alone would have kept it and blamed hestia.yaml.
        try DefinitionWatchTests.persona("hestia", role: "impostor").writeUnsynced(to: personas.appendingPathComponent("aaa.yaml"))
        let reload = runtime.reloadDefinitions()
        #expect(try runtime.definition("hestia").role == "safety")
        #expect(try runtime.definition("hestia").file.hasSuffix("hestia.yaml"))
        let errors = reload.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "\(errors.map(\.description))")
        let error = try #require(errors.first)
        #expect(error.file.hasSuffix("aaa.yaml") && error.line == 1 && error.message.contains("hestia.yaml"), "\(error.description)")
        #expect(error.message.contains("stays in force") && error.message.contains("change 'name:'"), "\(error.message)")
        #expect(reload.added.isEmpty && reload.changed.isEmpty && reload.removed.isEmpty)

        // A second look changes nothing; renaming the newcomer loads it beside hestia.
        #expect(runtime.reloadDefinitions().diagnostics.contains { $0.file.hasSuffix("aaa.yaml") })
        #expect(try runtime.definition("hestia").role == "safety")
        try DefinitionWatchTests.persona("hebe", role: "youth").writeUnsynced(to: personas.appendingPathComponent("aaa.yaml"))
        let renamed = runtime.reloadDefinitions()
        #expect(renamed.diagnostics.filter { $0.severity == .error }.isEmpty && renamed.added == ["hebe"])
        #expect(try runtime.definition("hestia").role == "safety" && runtime.definition("hebe").role == "youth")
        await runtime.shutdown()
    }

    @Test func aFileRenamedOntoANameInForceKeepsItsOwnDefinition() async throws {
        let (directory, config, personas) = try Self.home()
        let runtime = try await Runtime.open(configFlag: config.path, homeFlag: directory.url.path)
        // athena.yaml now says it is hestia: hestia stays hestia.yaml's, athena stays as it was.
        try DefinitionWatchTests.persona("hestia", role: "strategy").writeUnsynced(to: personas.appendingPathComponent("athena.yaml"))
        let reload = runtime.reloadDefinitions()
        #expect(try runtime.definition("hestia").role == "safety" && runtime.definition("athena").role == "strategy")
        #expect(reload.removed.isEmpty)
        let error = try #require(reload.diagnostics.first { $0.severity == .error })
        #expect(error.file.hasSuffix("athena.yaml") && error.message.contains("hestia.yaml"), "\(error.description)")
        await runtime.shutdown()
    }

    @Test func atStartupTheRuntimeRefusesToOpenNamingBothFiles() async throws {
        let (directory, config, personas) = try Self.home()
        try DefinitionWatchTests.persona("hestia", role: "impostor").writeUnsynced(to: personas.appendingPathComponent("aaa.yaml"))
        let error = await #expect(throws: ConfigError.self) {
            _ = try await Runtime.open(configFlag: config.path, homeFlag: directory.url.path)
        }
        let text = error?.diagnostics.map(\.description).joined(separator: "\n") ?? ""
        #expect(text.contains("aaa.yaml") && text.contains("hestia.yaml") && text.contains("duplicate persona name 'hestia'"), "\(text)")
    }
}
