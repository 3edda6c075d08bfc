import Foundation
import Testing
import TroupeConfig
import TroupeCore

/// Each file in SessionCorpus/ is a broken session; its `# expect: LINE:COL: MESSAGE` lines
/// list every error validation must report, in order.
@Suite("Session file validation corpus")
struct SessionCorpusTests {
    static let corpus = Bundle.module.resourceURL!.appendingPathComponent("SessionCorpus")

    static var files: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: corpus.path))?.filter { $0.hasSuffix(".yaml") }.sorted() ?? []
    }

    static func configuration() -> Configuration {
        let source = YAMLSource(contentsOf: PersonaCorpusTests.corpus.appendingPathComponent("runtime.yaml"))
        let runtime = Configuration.read(runtimeFrom: source, directory: corpus)
        let personas = ["athena", "artemis", "hestia", "seshat", "bellona"].map { PersonaDefinition(name: PersonaID(stringLiteral: $0)) }
        let location = ConfigLocation(configFile: nil, home: URL(fileURLWithPath: "/tmp"), personasDirectory: corpus)
        return Configuration(location: location, runtime: runtime, personas: personas)
    }

    @Test func corpusHasItsFiles() { #expect(Self.files.count >= 8) }

    @Test(arguments: files)
    func reportsEveryExpectedError(file: String) async throws {
        let url = Self.corpus.appendingPathComponent(file)
        // Files are read off the pool: on a loaded machine a read can wait.
        let (expected, loaded, actual) = try await offThePool("troupe-test.session-corpus") {
            let expected = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("# expect: ") }
                .map { String($0.dropFirst(10)) }
            let (definition, diagnostics) = SessionDefinition.load(url, configuration: Self.configuration())
            return (expected, definition != nil, diagnostics.filter { $0.severity == .error }.map { "\($0.line):\($0.column): \($0.message)" })
        }
        #expect(!loaded)
        #expect(actual == expected)
    }

    @Test func theShippedSessionsAreValid() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // Reading and checking the shipped config and personas: seconds in a debug build, off the pool.
        let configuration = try await offThePool("troupe-test.config") {
            try Configuration.load(
                configFlag: repo.appendingPathComponent("Config/troupe.yaml").path, homeFlag: "/tmp/troupe-session-corpus", environment: [:],
                currentDirectory: repo)
        }
        let folder = repo.appendingPathComponent("Scripts/sessions")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let (definition, diagnostics) = SessionDefinition.load(folder.appendingPathComponent(file), configuration: configuration)
            #expect(definition != nil, "\(file): \(diagnostics.map(\.rendered).joined(separator: "\n"))")
            #expect(definition?.expectations.isEmpty == false, "\(file) has no expectations")
        }
    }
}
