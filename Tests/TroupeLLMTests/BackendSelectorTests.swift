import NIOConcurrencyHelpers
import Testing
import TroupeCore
@testable import TroupeLLM

@Suite("llm: auto selection")
struct BackendSelectorTests {
    /// A probe that answers from a script and records which URLs were probed.
    final class FakeProbe: Sendable {
        let answer: [String]?
        private let probed = NIOLockedValueBox<[String]>([])
        var urls: [String] { probed.withLockedValue { $0 } }

        init(_ answer: [String]?) { self.answer = answer }

        var selector: BackendSelector {
            BackendSelector(probe: { url in
                self.probed.withLockedValue { $0.append(url) }
                guard let answer = self.answer else { throw TroupeError(.unavailable, "cannot reach \(url): connection refused") }
                return answer
            })
        }
    }

    static let gguf = "/home/u/.troupe/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    func select(_ settings: LLMSettings = LLMSettings(), env: [String: String] = [:], installed: Bool = false,
                ollama: [String]? = nil) async -> (BackendSelection, probed: [String]) {
        let probe = FakeProbe(ollama)
        let selection = await probe.selector.select(settings, environment: env, embeddedModelPath: Self.gguf,
                                                    embeddedModelInstalled: installed)
        #expect(selection.rejected.map(\.candidate) == BackendSelection.Candidate.allCases.filter { $0 != selection.candidate },
                "every other candidate has a reason, in order")
        return (selection, probe.urls)
    }

    @Test func environmentURLWinsOverConfigAndIsNotProbed() async {
        let (selection, probed) = await select(LLMSettings(baseURL: "http://config:8080/v1", model: "q"),
                                               env: ["TROUPE_LLM_URL": "http://env:8000/v1"], installed: true, ollama: ["a"])
        #expect(selection.choice == .openAI(baseURL: "http://env:8000/v1", model: "q"))
        #expect(selection.reason == "TROUPE_LLM_URL is http://env:8000/v1")
        #expect(probed.isEmpty)
        #expect(selection.rejected.first { $0.candidate == .embedded }?.reason == "not looked for: TROUPE_LLM_URL names the server")
    }

    @Test func configBaseURLWhenNoEnvironment() async {
        let (selection, _) = await select(LLMSettings(baseURL: "http://config:8080/v1"), env: ["TROUPE_LLM_URL": " "])
        #expect(selection.choice == .openAI(baseURL: "http://config:8080/v1", model: nil))
        #expect(selection.candidate == .configuredServer)
    }

    @Test func personaOverridesResolveIntoTheChoiceAndTheRequest() async {
        let global = LLMSettings(baseURL: "http://config:8080/v1", model: "big", temperature: 0.7, maxTokens: 512)
        let persona = global.overridden(model: "small", temperature: 0.1, maxTokens: 64, baseURL: "http://persona:9000/v1")
        let (selection, _) = await select(persona, env: ["TROUPE_LLM_URL": "http://env:8000/v1"])
        #expect(selection.choice == .openAI(baseURL: "http://persona:9000/v1", model: "small"))
        #expect(selection.reason == "the persona's base_url is http://persona:9000/v1")
        let request = persona.request([ChatMessage(.user, "hi")])
        #expect(request.model == "small")
        #expect(request.sampling.temperature == 0.1)
        #expect(request.sampling.maxTokens == 64)
        let untouched = global.overridden()
        #expect(untouched == global, "a persona without overrides changes nothing")
        #expect(await select(untouched, env: ["TROUPE_LLM_URL": "http://env:8000/v1"]).0.choice
                == .openAI(baseURL: "http://env:8000/v1", model: "big"), "the config's base_url yields to the environment")
    }

    @Test func ollamaWithTheConfiguredModel() async {
        let (selection, probed) = await select(LLMSettings(model: "llama3.2"), installed: true, ollama: ["qwen2.5:0.5b", "llama3.2:latest"])
        #expect(selection.choice == .openAI(baseURL: BackendSelector.ollamaURL, model: "llama3.2:latest"))
        #expect(probed == [BackendSelector.ollamaURL])
        #expect(selection.rejected.first { $0.candidate == .configuredServer }?.reason.hasPrefix("none named") == true)
    }

    @Test func ollamaWithoutAConfiguredModelGivesItsFirst() async {
        let (selection, _) = await select(ollama: ["qwen2.5:0.5b", "llama3.2:latest"])
        #expect(selection.choice == .openAI(baseURL: BackendSelector.ollamaURL, model: "qwen2.5:0.5b"))
        #expect(selection.candidate == .ollama)
    }

    @Test func ollamaLackingTheModelIsPassedOver() async {
        let (selection, _) = await select(LLMSettings(model: "mistral"), installed: true, ollama: ["qwen2.5:0.5b"])
        #expect(selection.choice == .embedded(path: Self.gguf))
        #expect(selection.rejected.first { $0.candidate == .ollama }?.reason
                == "Ollama answers at http://127.0.0.1:11434/v1 but has no model 'mistral' (it has: qwen2.5:0.5b)")
        let (empty, _) = await select(ollama: [])
        #expect(empty.choice == .offline)
        #expect(empty.rejected.first { $0.candidate == .ollama }?.reason.contains("has no models") == true)
    }

    @Test func embeddedWhenNoServerAnswers() async {
        let (selection, probed) = await select(installed: true)
        #expect(selection.choice == .embedded(path: Self.gguf))
        #expect(selection.reason == "the embedded model is installed at \(Self.gguf)")
        #expect(probed == [BackendSelector.ollamaURL])
        #expect(selection.rejected.first { $0.candidate == .ollama }?.reason == "cannot reach http://127.0.0.1:11434/v1: connection refused")
    }

    @Test func offlineWhenNothingIsThereWithEveryReason() async throws {
        let (selection, _) = await select()
        #expect(selection.choice == .offline)
        #expect(selection.rejected.map(\.reason) == [
            "none named (TROUPE_LLM_URL, llm.base_url and the persona's base_url are unset)",
            "cannot reach http://127.0.0.1:11434/v1: connection refused",
            "the model is not installed at \(Self.gguf) (Scripts/setup installs it)",
        ])
        let backend = try BackendSelector.makeBackend(selection, settings: LLMSettings(), embedded: { _ in Issue.record("not embedded"); return OfflineBackend() })
        let reply = try await backend.complete(ChatRequest(messages: [ChatMessage(.user, "hi")]))
        #expect(reply.text.contains("ollama: cannot reach http://127.0.0.1:11434/v1: connection refused; embedded: the model is not installed"))
    }

    @Test func explicitBackendsSkipTheSearch() async {
        let offline = await select(LLMSettings(backend: .offline).overridden(baseURL: "http://persona:1/v1"), installed: true, ollama: ["a"])
        #expect(offline.0.choice == .offline)
        #expect(offline.probed.isEmpty)

        let embedded = await select(LLMSettings(backend: .embedded, baseURL: "http://config:8080/v1"), ollama: ["a"])
        #expect(embedded.0.choice == .embedded(path: Self.gguf), "the config's base_url does not override an explicit backend")
        #expect(embedded.0.reason.hasSuffix("the chat will fail until it is"))
        #expect(embedded.probed.isEmpty)

        let personaServer = await select(LLMSettings(backend: .embedded).overridden(baseURL: "http://persona:1/v1"), installed: true)
        #expect(personaServer.0.choice == .openAI(baseURL: "http://persona:1/v1", model: nil), "a persona's own server wins over embedded")

        let openai = await select(LLMSettings(backend: .openai, model: "m"), installed: true, ollama: ["a"])
        #expect(openai.0.choice == .openAI(baseURL: BackendSelector.ollamaURL, model: "m"))
        #expect(openai.probed.isEmpty)
    }

    @Test func liveProbeAgainstARealServerIsCachedForTheProcess() async throws {
        let server = try await TestServer.start { request, _ in
            request.path == "/v1/models" ? Responses.models(["tiny:latest"]) : Responses.json(500, "{}")
        }
        let selector = BackendSelector(probe: BackendSelector.live(timeout: .seconds(30)).probe, ollamaURL: server.baseURL)
        let first = await selector.select(LLMSettings(), environment: [:], embeddedModelPath: Self.gguf, embeddedModelInstalled: true)
        #expect(first.choice == .openAI(baseURL: server.baseURL, model: "tiny:latest"))
        await server.stop()
        let second = await selector.select(LLMSettings(), environment: [:], embeddedModelPath: Self.gguf, embeddedModelInstalled: true)
        #expect(second.choice == first.choice, "the answer is remembered, not asked again")
        #expect(server.requests.count == 1)

        let refusing = try TestServer.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let nothing = BackendSelector(probe: BackendSelector.live(timeout: .seconds(30)).probe, ollamaURL: "http://127.0.0.1:\(port)/v1")
        let fallback = await nothing.select(LLMSettings(), environment: [:], embeddedModelPath: Self.gguf, embeddedModelInstalled: false)
        #expect(fallback.choice == .offline)
        #expect(fallback.rejected.first { $0.candidate == .ollama }?.reason == "cannot reach http://127.0.0.1:\(port)/v1: connection refused")
    }

    @Test func httpConfigurationTakesTheSettingsTimeouts() {
        let settings = LLMSettings(apiKeyEnv: "K", timeout: .seconds(90), connectTimeout: .seconds(2))
        let configuration = BackendSelector.openAIConfiguration(baseURL: "http://h/v1", model: "m", settings: settings)
        #expect(configuration.firstTokenTimeout == .seconds(90))
        #expect(configuration.idleTimeout == .seconds(90))
        #expect(configuration.connectTimeout == .seconds(2))
        #expect(configuration.apiKeyEnv == "K")
    }
}
