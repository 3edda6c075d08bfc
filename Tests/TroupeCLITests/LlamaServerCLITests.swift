import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// llama.cpp's own server (the xllamacpp wheel, in .venv by `Scripts/setup --tests`) serving the
/// embedded SmolLM2-135M on a free loopback port: a real OpenAI-compatible server that holds the
/// model to a JSON schema, as Ollama and vLLM do.
final class LlamaServer: @unchecked Sendable {
    // Safe: immutable after init.
    let process: Process
    let port: Int

    static let python = CLITests.repo.appendingPathComponent(".venv/bin/python")
    static let script = CLITests.repo.appendingPathComponent("Tests/TroupeCLITests/LlamaServer/serve.py")
    static let model = URL(fileURLWithPath: ProcessInfo.processInfo.environment["TROUPE_LLM_MODEL_DIR"]
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".troupe/models/smollm2-135m-instruct").path)
        .appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")

    /// Starts the server; `nil` (and an issue saying what to run) without the wheel or the model.
    static func start() async throws -> LlamaServer? {
        guard FileManager.default.isExecutableFile(atPath: python.path), FileManager.default.fileExists(atPath: model.path) else {
            Issue.record("no .venv with xllamacpp or no SmolLM2 model: run Scripts/setup --tests (Scripts/test does)")
            return nil
        }
        return try await LlamaServer()
    }

    private init() async throws {
        port = ModelServer.freePort()
        let process = Process()
        process.executableURL = Self.python
        process.arguments = [Self.script.path, Self.model.path, String(port)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        self.process = process
        let ready = try await offThePool("troupe-test.llama-server.start") { () -> Bool in
            try process.run()
            // "ready" once /health answers; end of output without it: the server gave up.
            return String(decoding: out.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n"
        }
        guard ready else { throw TroupeError(.unavailable, "llama.cpp's server did not start on port \(port)") }
    }

    /// A config whose chat backend is this server.
    func config(in home: URL) throws -> URL {
        try ModelServer.config(in: home, llm: "backend: openai\nbase_url: http://127.0.0.1:\(port)/v1\nmax_tokens: 48\ntimeout: 300s")
    }

    deinit { process.terminate() }
}

/// Formation with a real OpenAI-compatible server whose model is far too weak to trust: its
/// labels, held to the schema by llama.cpp, may be nonsense, and nothing it says may invent a
/// fact or lose one a person stated.
@Suite("A weak model behind llama.cpp's server", .serialized, .cleanups)
struct LlamaServerCLITests {
    static let said = [
        "I use Neovim for all my editing.", "Our freeze starts on 3 March.", "The search p99 is 310 ms on the m6i.large fleet.",
        "What should we call the new billing service?", "Ana Ruiz leads the data platform team.", "Our freeze now starts on 17 April.",
    ]

    @Test func whatAPersonSaidIsKeptAsSaidWhateverTheModelLabels() async throws {
        guard let server = try await LlamaServer.start() else { return }
        let home = try CLITests.tempHome()
        let config = try server.config(in: home)
        let input = home.appendingPathComponent("in.txt")
        try (Self.said.joined(separator: "\n") + "\n").writeUnsynced(to: input)
        let run = try await CLITests.troupe(["repl", "--persona", "athena"], home: home, config: config, stdin: input)
        #expect(run.status == 0, "\(run.stderr)")

        let export = try await CLITests.troupe(["memory", "export", "--persona", "athena", "--slice", "semantic"], home: home, config: config)
        let facts = try export.stdout.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
        let contents = facts.compactMap { fact -> String? in if case .object(let o) = fact, case .string(let c)? = o["content"] { c } else { nil } }
        func words(_ text: String) -> Set<String> { Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)) }
        // Nothing invented: every fact is in the words of one line the person said.
        for content in contents {
            #expect(Self.said.contains { words(content).isSubset(of: words($0)) }, "not said: \(content)")
        }
        // Nothing lost: each stated value is current, the updated one is not.
        for value in ["Neovim", "310 ms", "17 April", "data platform team"] {
            #expect(contents.contains { $0.contains(value) }, "lost \(value): \(contents)")
        }
        #expect(!contents.contains { $0.contains("3 March") }, "the freeze moved: \(contents)")
        // A label kept is grounded in its fact.
        for case .object(let fact) in facts {
            guard case .object(let metadata)? = fact["metadata"], case .object(let reading)? = metadata["reading"],
                case .string(let value)? = reading["value"], case .string(let content)? = fact["content"]
            else { continue }
            #expect(words(value).isSubset(of: words(content)), "a label not in its fact: \(value) in \(content)")
        }
    }
}
