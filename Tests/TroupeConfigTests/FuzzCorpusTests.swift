import Foundation
import Testing
import TroupeConfig
import TroupeCore

/// The inputs the fuzzers kept (Scripts/fuzz persona|config|session), replayed as regression tests: each
/// is read and validated as a file, every diagnostic has a place, and nothing crashes or hangs.
@Suite("Fuzz corpus: persona, config and session files")
struct ConfigFuzzCorpusTests {
    static func inputs(_ name: String) -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus/\(name)")
        return ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
    }

    @Test func personaInputsValidateWithPlacedDiagnostics() async throws {
        let inputs = Self.inputs("persona")
        #expect(inputs.count >= 20, "run Scripts/fuzz persona to grow the corpus")
        // Hundreds of files read and validated: seconds of CPU work in a debug build, done off
        // the cooperative pool; the checks run here. (So in the two tests below.)
        let results = try await offThePool("troupe-test.fuzz-corpus") {
            inputs.map { Configuration.validate(personaFiles: [$0], runtime: RuntimeConfig()) }
        }
        for (url, result) in zip(inputs, results) {
            for diagnostic in result.diagnostics {
                #expect(!diagnostic.rendered.isEmpty)
                #expect(diagnostic.line >= 0 && diagnostic.column >= 0, "\(url.lastPathComponent)")
            }
            #expect(result.personas.isEmpty || result.diagnostics.allSatisfy { $0.severity != .error }, "\(url.lastPathComponent)")
        }
    }

    @Test func configInputsReadWithoutCrashing() async throws {
        let inputs = Self.inputs("config")
        #expect(inputs.count >= 20, "run Scripts/fuzz config to grow the corpus")
        let diagnostics = try await offThePool("troupe-test.fuzz-corpus") {
            inputs.map { url in
                let source = YAMLSource(contentsOf: url)
                _ = Configuration.read(runtimeFrom: source, directory: url.deletingLastPathComponent())
                return source.diagnostics
            }
        }
        for diagnostic in diagnostics.joined() { #expect(!diagnostic.rendered.isEmpty) }
    }

    @Test func sessionInputsValidateWithPlacedDiagnostics() async throws {
        let inputs = Self.inputs("session")
        #expect(inputs.count >= 20, "run Scripts/fuzz session to grow the corpus")
        let configuration = SessionCorpusTests.configuration()
        let loaded = try await offThePool("troupe-test.fuzz-corpus") { inputs.map { SessionDefinition.load($0, configuration: configuration) } }
        for (url, (definition, diagnostics)) in zip(inputs, loaded) {
            for diagnostic in diagnostics {
                #expect(!diagnostic.rendered.isEmpty)
                #expect(diagnostic.line >= 0 && diagnostic.column >= 0, "\(url.lastPathComponent)")
            }
            #expect(definition == nil || diagnostics.allSatisfy { $0.severity != .error }, "\(url.lastPathComponent)")
        }
    }
}
