/// Which backend the configuration asks for (`llm.backend`).
public enum BackendPreference: String, Sendable, Hashable, CaseIterable {
    /// Look: a configured server, else Ollama on this machine, else the embedded model, else offline.
    case auto
    case openai
    case embedded
    case offline
}

/// The `llm:` values a chat uses, as plain values: the runtime config's, with a persona's
/// overrides laid over them by ``overridden(model:temperature:maxTokens:baseURL:)``.
///
/// TroupeLLM does not read configuration files; the runtime fills this from `RuntimeConfig.LLM`
/// and `PersonaDefinition.LLMOverrides`.
public struct LLMSettings: Sendable, Hashable {
    public var backend: BackendPreference
    public var baseURL: String?
    public var model: String?
    /// The name of the environment variable that holds the API key.
    public var apiKeyEnv: String?
    public var temperature: Double
    public var maxTokens: Int
    /// `llm.timeout`: the first-token and the idle timeout of HTTP backends.
    public var timeout: Duration
    /// How long connecting to an HTTP backend may take.
    public var connectTimeout: Duration

    public init(
        backend: BackendPreference = .auto, baseURL: String? = nil, model: String? = nil, apiKeyEnv: String? = nil,
        temperature: Double = 0.7, maxTokens: Int = 512, timeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(5)
    ) {
        self.backend = backend
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// These settings with a persona's overrides: every value the persona sets wins. A persona's
    /// `base_url` sends that persona to that server (see ``BackendSelector``).
    public func overridden(model: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil, baseURL: String? = nil) -> LLMSettings {
        var settings = self
        settings.model = model ?? self.model
        settings.temperature = temperature ?? self.temperature
        settings.maxTokens = maxTokens ?? self.maxTokens
        if let baseURL {
            settings.baseURL = baseURL
            settings.personaBaseURL = true
        }
        return settings
    }

    /// Whether ``baseURL`` is a persona's own (it then wins over `TROUPE_LLM_URL`).
    public internal(set) var personaBaseURL = false

    /// `base` with these settings' temperature and token limit.
    public func sampling(_ base: SamplingOptions = SamplingOptions()) -> SamplingOptions {
        var sampling = base
        sampling.temperature = temperature
        sampling.maxTokens = maxTokens
        return sampling
    }

    /// A request for `messages` with these settings' sampling and model.
    public func request(_ messages: [ChatMessage], sampling base: SamplingOptions = SamplingOptions()) -> ChatRequest {
        ChatRequest(messages: messages, sampling: sampling(base), model: model)
    }
}
