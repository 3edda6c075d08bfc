import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// The installed model and the reference data, loaded once for the whole suite.
enum ModelFixture {
    static let missing = "the chat model is not installed: run Scripts/setup (or set TROUPE_LLM_MODEL_DIR)"

    /// The package root (Tests/TroupeLLMTests/ModelFixture.swift is three levels down).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/reference/smollm2`, beside the package.
    static let referenceDirectory = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/smollm2")

    struct Loaded: Sendable {
        let gguf: GGUFFile
        let configuration: LlamaConfiguration
        let weights: LlamaWeights
        let tokenizer: BPETokenizer
        let template: ChatTemplate
    }

    /// Parsed once, on first use, off the cooperative pool (the load copies every weight matrix:
    /// seconds in a debug build); tests that ask meanwhile wait for it, suspended. `nil` when no
    /// model is installed; a model that does not load is an error for every test that needs it.
    private static let loaded = MadeOnce<Loaded?>("troupe-test.model.load") {
        guard let file = EmbeddedBackend.installedModel() else { return nil }
        let gguf = try GGUFFile(path: file.path)
        let configuration = try LlamaConfiguration(gguf: gguf)
        let tokenizer = try BPETokenizer(gguf: gguf)
        return Loaded(
            gguf: gguf, configuration: configuration, weights: try LlamaWeights(file: gguf, configuration: configuration),
            tokenizer: tokenizer, template: try ChatTemplate(tokenizer: tokenizer, gguf: gguf))
    }

    static func model() async throws -> Loaded {
        let loaded: Loaded?
        do {
            loaded = try await Self.loaded.value()
        } catch {
            Issue.record("the installed model does not load: \(error)")
            throw error
        }
        return try #require(loaded, Comment(rawValue: missing))
    }

    /// A decoder on its own cache (tests run in parallel; each gets its own). Not `Sendable`: the
    /// test that makes it runs it, on a thread of its own (decoding is seconds of CPU work in a
    /// debug build).
    static func decoder(threads: Int = 1, decode: EmbeddedBackend.DecodeArithmetic = .float32, contextLength: Int = 1024) async throws -> LlamaModel {
        let m = try await model()
        return try LlamaModel(weights: m.weights, configuration: m.configuration, threads: threads, decode: decode.kernels,
                              contextLength: contextLength)
    }

    struct TokenCase: Decodable, Sendable {
        var text: String
        var ids: [Int32]
    }

    struct PromptCase: Decodable, Sendable {
        var prompt: String
        var system: String
        var user: String
        var ids: [Int32]
        var top: [[Double]]
        var greedy: [Int32]
        var margins: [Double]
        var greedy_text: String
    }

    static func jsonLines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
        let text = try String(contentsOf: referenceDirectory.appendingPathComponent(name), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    static let tokenCases: [TokenCase] = (try? jsonLines("tokens.jsonl", as: TokenCase.self)) ?? []
    static let promptCases: [PromptCase] = (try? jsonLines("logits.jsonl", as: PromptCase.self)) ?? []

    /// The reference's full first-step logits for prompt 0.
    static func referenceLogits0() throws -> [Float] {
        let data = try Data(contentsOf: referenceDirectory.appendingPathComponent("logits0.f32"))
        return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }
}
