import Foundation
import Testing
import TroupeConfig

/// The inputs the fuzzers kept (Scripts/fuzz persona|config|session), replayed as regression tests: each
/// is read and validated as a file, every diagnostic has a place, and nothing crashes or hangs.
@Suite("Fuzz corpus: persona, config and session files")
struct ConfigFuzzCorpusTests {
    static func inputs(_ name: String) -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus/\(name)")
        return ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
    }

    @Test func personaInputsValidateWithPlacedDiagnostics() throws {
        let inputs = Self.inputs("persona")
        #expect(inputs.count >= 20, "run Scripts/fuzz persona to grow the corpus")
        for url in inputs {
            let result = Configuration.validate(personaFiles: [url], runtime: RuntimeConfig())
            for diagnostic in result.diagnostics {
                #expect(!diagnostic.rendered.isEmpty)
                #expect(diagnostic.line >= 0 && diagnostic.column >= 0, "\(url.lastPathComponent)")
            }
            #expect(result.personas.isEmpty || result.diagnostics.allSatisfy { $0.severity != .error }, "\(url.lastPathComponent)")
        }
    }

    @Test func configInputsReadWithoutCrashing() throws {
        let inputs = Self.inputs("config")
        #expect(inputs.count >= 20, "run Scripts/fuzz config to grow the corpus")
        for url in inputs {
            let source = YAMLSource(contentsOf: url)
            _ = Configuration.read(runtimeFrom: source, directory: url.deletingLastPathComponent())
            for diagnostic in source.diagnostics { #expect(!diagnostic.rendered.isEmpty) }
        }
    }

    @Test func sessionInputsValidateWithPlacedDiagnostics() throws {
        let inputs = Self.inputs("session")
        #expect(inputs.count >= 20, "run Scripts/fuzz session to grow the corpus")
        let configuration = SessionCorpusTests.configuration()
        for url in inputs {
            let (definition, diagnostics) = SessionDefinition.load(url, configuration: configuration)
            for diagnostic in diagnostics {
                #expect(!diagnostic.rendered.isEmpty)
                #expect(diagnostic.line >= 0 && diagnostic.column >= 0, "\(url.lastPathComponent)")
            }
            #expect(definition == nil || diagnostics.allSatisfy { $0.severity != .error }, "\(url.lastPathComponent)")
        }
    }
}
