import Foundation

/// What ``BackendSelector`` chose, and why the others were not chosen (for `doctor`).
public struct BackendSelection: Sendable, Hashable {
    public enum Choice: Sendable, Hashable {
        /// An OpenAI-compatible server; `model` `nil` lets the backend ask the server.
        case openAI(baseURL: String, model: String?)
        /// The embedded model in the GGUF file at `path` (the runtime constructs the backend).
        case embedded(path: String)
        case offline
    }

    /// The places a chat model can come from, in the order `auto` tries them.
    public enum Candidate: String, Sendable, Hashable, CaseIterable {
        /// `TROUPE_LLM_URL`, `llm.base_url` or a persona's `base_url`.
        case configuredServer = "configured server"
        case ollama
        case embedded
        case offline
    }

    public struct Rejection: Sendable, Hashable {
        public var candidate: Candidate
        public var reason: String

        public init(candidate: Candidate, reason: String) {
            self.candidate = candidate
            self.reason = reason
        }
    }

    public var choice: Choice
    public var candidate: Candidate
    /// Why this one, in a sentence.
    public var reason: String
    /// Every other candidate, in order, with why not.
    public var rejected: [Rejection]

    public init(choice: Choice, candidate: Candidate, reason: String, rejected: [Rejection]) {
        self.choice = choice
        self.candidate = candidate
        self.reason = reason
        self.rejected = rejected
    }
}

/// Chooses a chat backend from plain values: the settings (a persona's overrides already laid
/// over the config's), the environment, whether the embedded model is installed, and a probe
/// that asks a server for its models.
///
/// With `backend: auto`: a persona's `base_url`, else `TROUPE_LLM_URL`, else `llm.base_url` →
/// that server, without probing it (it was named; if it is down, the chat says so). Else an
/// Ollama answering on 127.0.0.1:11434 → Ollama, with the configured model when it has it
/// (and not at all when it lacks it), else the first it lists. Else the embedded model when its
/// file is installed. Else offline. An explicit `backend:` skips the search: `openai` goes to
/// the first URL of that list (Ollama's address when none is set); a persona's `base_url` wins
/// over `embedded` too (that persona wants that server), but not over `offline`.
public struct BackendSelector: Sendable {
    /// Asks the OpenAI-compatible server at a base URL for its model list; throws when it does
    /// not answer like one.
    public typealias Probe = @Sendable (_ baseURL: String) async throws -> [String]

    /// Ollama's OpenAI-compatible API on this machine.
    public static let ollamaURL = "http://127.0.0.1:11434/v1"

    public var probe: Probe
    public var ollamaURL: String

    public init(probe: @escaping Probe, ollamaURL: String = BackendSelector.ollamaURL) {
        self.probe = probe
        self.ollamaURL = ollamaURL
    }

    /// The choice for `settings`. `environment` is read for `TROUPE_LLM_URL` only.
    public func select(
        _ settings: LLMSettings, environment: [String: String], embeddedModelPath: String, embeddedModelInstalled: Bool
    ) async -> BackendSelection {
        var rejected: [BackendSelection.Rejection] = []
        func reject(_ candidate: BackendSelection.Candidate, _ reason: String) {
            rejected.append(.init(candidate: candidate, reason: reason))
        }
        func chosen(_ choice: BackendSelection.Choice, _ candidate: BackendSelection.Candidate, _ reason: String,
                    rest: String) -> BackendSelection {
            let order = BackendSelection.Candidate.allCases
            let done = Set(rejected.map(\.candidate) + [candidate])
            for other in order where !done.contains(other) { reject(other, rest) }
            rejected.sort { order.firstIndex(of: $0.candidate)! < order.firstIndex(of: $1.candidate)! }
            return BackendSelection(choice: choice, candidate: candidate, reason: reason, rejected: rejected)
        }
        let embeddedState = embeddedModelInstalled
            ? "installed at \(embeddedModelPath)" : "not installed at \(embeddedModelPath) (Scripts/setup installs it)"
        let named = Self.namedServer(settings, environment: environment)

        switch settings.backend {
        case .offline:
            return chosen(.offline, .offline, "llm.backend is offline", rest: "not looked for: llm.backend is offline")
        case .embedded where !(named?.fromPersona ?? false):
            let reason = embeddedModelInstalled
                ? "llm.backend is embedded; the model is \(embeddedState)"
                : "llm.backend is embedded, but the model is \(embeddedState): the chat will fail until it is"
            return chosen(.embedded(path: embeddedModelPath), .embedded, reason, rest: "not looked for: llm.backend is embedded")
        case .openai, .embedded, .auto:
            if let named {
                let rest = "not looked for: \(named.source) names the server"
                return chosen(.openAI(baseURL: named.url, model: settings.model), .configuredServer,
                              "\(named.source) is \(named.url)", rest: rest)
            }
            if settings.backend == .openai {
                return chosen(.openAI(baseURL: ollamaURL, model: settings.model), .configuredServer,
                              "llm.backend is openai and no base URL is set: Ollama's address, \(ollamaURL)",
                              rest: "not looked for: llm.backend is openai")
            }
        }

        reject(.configuredServer, "none named (TROUPE_LLM_URL, llm.base_url and the persona's base_url are unset)")
        switch await ollama(model: settings.model) {
        case .success(let model):
            return chosen(.openAI(baseURL: ollamaURL, model: model), .ollama,
                          "Ollama answers at \(ollamaURL) and has '\(model)'", rest: "not needed: Ollama answers")
        case .failure(let why):
            reject(.ollama, why.reason)
        }
        if embeddedModelInstalled {
            return chosen(.embedded(path: embeddedModelPath), .embedded, "the embedded model is \(embeddedState)",
                          rest: "not needed: the embedded model is installed")
        }
        reject(.embedded, "the model is \(embeddedState)")
        return chosen(.offline, .offline, "no chat model was found", rest: "")
    }

    struct NotChosen: Error {
        var reason: String
    }

    /// Ollama's model for `model`: the configured one when Ollama has it (`llama3.2` matches
    /// `llama3.2:latest`), else its first when none is configured.
    private func ollama(model: String?) async -> Result<String, NotChosen> {
        let models: [String]
        do {
            models = try await probe(ollamaURL)
        } catch {
            // The probe's error says it best: `cannot reach http://127.0.0.1:11434/v1: connection refused`.
            return .failure(NotChosen(reason: "\(error)"))
        }
        let list = models.isEmpty ? "none" : models.joined(separator: ", ")
        if let model {
            if let match = models.first(where: { $0 == model || $0 == model + ":latest" }) { return .success(match) }
            return .failure(NotChosen(reason: "Ollama answers at \(ollamaURL) but has no model '\(model)' (it has: \(list))"))
        }
        guard let first = models.first else {
            return .failure(NotChosen(reason: "Ollama answers at \(ollamaURL) but has no models (`ollama pull` one)"))
        }
        return .success(first)
    }

    /// The server the settings or the environment name, and which of them named it.
    static func namedServer(_ settings: LLMSettings, environment: [String: String]) -> (url: String, source: String, fromPersona: Bool)? {
        if settings.personaBaseURL, let url = settings.baseURL.nonEmpty { return (url, "the persona's base_url", true) }
        if let url = environment["TROUPE_LLM_URL"].nonEmpty { return (url, "TROUPE_LLM_URL", false) }
        if let url = settings.baseURL.nonEmpty { return (url, "llm.base_url", false) }
        return nil
    }
}

extension Optional<String> {
    fileprivate var nonEmpty: String? {
        guard let text = self?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }
}
