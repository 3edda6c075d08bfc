import Foundation
import TroupeStoreConformance
import Testing
import TroupeConfig
import TroupeCore

/// Each file in Corpus/ is a broken persona; its `# expect: LINE:COL: MESSAGE` lines list every
/// error the validator must report, in order.
@Suite("Persona validation corpus")
struct PersonaCorpusTests {
    static let corpus = Bundle.module.resourceURL!.appendingPathComponent("Corpus")

    /// Known validator gaps, kept visible rather than enshrined: Yams stops at a duplicate key,
    /// so other errors in that file go unreported, and a repeat inside a flow mapping is located
    /// at its first occurrence.
    static let knownIssues: Set<String> = ["32-duplicate-key-in-flow-mapping.yaml", "35-duplicate-key-hides-other-errors.yaml"]

    static var files: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: corpus.path))?
            .filter { $0.hasSuffix(".yaml") && $0 != "runtime.yaml" }.sorted() ?? []
    }

    static func runtime() -> RuntimeConfig {
        let source = YAMLSource(contentsOf: corpus.appendingPathComponent("runtime.yaml"))
        return Configuration.read(runtimeFrom: source, directory: corpus)
    }

    @Test func corpusHasAtLeastFifteenFiles() {
        #expect(Self.files.count >= 15)
    }

    @Test(arguments: files)
    func reportsEveryExpectedError(file: String) async throws {
        let url = Self.corpus.appendingPathComponent(file)
        // Files are read off the pool: on a loaded machine a read can wait.
        let (expected, actual, personas) = try await offThePool("troupe-test.persona-corpus") {
            let text = try String(contentsOf: url, encoding: .utf8)
            let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map { String($0.dropFirst(10)) }
            let result = Configuration.validate(personaFiles: [url], runtime: Self.runtime())
            return (expected, result.diagnostics.filter { $0.severity == .error }.map { "\($0.line):\($0.column): \($0.message)" }, result.personas.count)
        }
        #expect(!expected.isEmpty, "\(file) has no expectations")
        #expect(personas == 0)
        if Self.knownIssues.contains(file) {
            withKnownIssue { #expect(actual == expected) }
        } else {
            #expect(actual == expected)
        }
    }

    @Test func renderedDiagnosticShowsTheLineAndACaret() throws {
        let source = YAMLSource(text: "name: athena\nmemroy:\n  working: {}\n", displayPath: "Personas/athena.yaml")
        let root = try #require(MappingReader.root(of: source, expecting: "a persona"))
        _ = root.node("name")
        _ = root.node("memory")
        root.finish()
        #expect(source.diagnostics.map(\.rendered) == [
            "Personas/athena.yaml:2:1: error: unknown key 'memroy' (did you mean 'memory'?)\nmemroy:\n^~~~~~"
        ])
    }

    @Test func shippedPersonasAndConfigAreValid() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // Reading and checking six files: seconds in a debug build, off the pool.
        let configuration = try await offThePool("troupe-test.config") {
            try Configuration.load(
                configFlag: repo.appendingPathComponent("Config/troupe.yaml").path, homeFlag: "/tmp/troupe-unused-home",
                environment: [:], currentDirectory: repo)
        }
        #expect(configuration.personas.map(\.name.rawValue) == ["artemis", "athena", "bellona", "hestia", "seshat"])
        #expect(configuration.personas.allSatisfy { $0.procedural.count >= 5 && $0.systemPrompt.count > 200 })
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.runtime.sharedSlices.map(\.name.rawValue) == ["team-decisions", "incident-log", "style-guide"])
    }

    @Test func duplicateNamesAcrossFilesAndUnknownMembersAreReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Personas"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let persona = "name: athena\ndisplay_name: A\nrole: r\ndescription: d\nsystem_prompt: p\n"
        try persona.writeUnsynced(to: dir.appendingPathComponent("Personas/athena.yaml"))
        try persona.writeUnsynced(to: dir.appendingPathComponent("Personas/athena.yml"))
        try "personas: Personas\nshared_slices:\n  - name: notes\n    kind: semantic\n    members: [athena, zeus]\n"
            .writeUnsynced(to: dir.appendingPathComponent("troupe.yaml"))
        let error = #expect(throws: ConfigError.self) {
            try Configuration.load(configFlag: dir.appendingPathComponent("troupe.yaml").path, homeFlag: dir.path, environment: [:], currentDirectory: dir)
        }
        let messages = error?.errors.map { "\($0.file.split(separator: "/").last!):\($0.line):\($0.column): \($0.message)" } ?? []
        #expect(messages.contains("troupe.yaml:5:23: shared slice member 'zeus' is not a known persona"))
        #expect(messages.contains { $0.hasPrefix("athena.yml:1:7: duplicate persona name 'athena' (also defined in ") })
    }

    @Test func durationsParseAsDocumented() {
        #expect(DurationText.parse("90m") == 5400)
        #expect(DurationText.parse("1h") == 3600)
        #expect(DurationText.parse("7d") == 604_800)
        #expect(DurationText.parse("1h30m") == 5400)
        #expect(DurationText.parse("90 minutes") == nil)
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.format(3600) == "1h")
    }
}
