import AsyncHTTPClient
import Foundation
import NIOCore
import TroupeCore

/// A chat backend on any OpenAI-compatible server: Ollama, llama.cpp's `llama-server`, vLLM,
/// or OpenAI itself. It posts to `{baseURL}/chat/completions`, streamed (server-sent events)
/// by default.
///
/// Why AsyncHTTPClient and not URLSession: on Linux, FoundationNetworking has no
/// `URLSession.bytes(for:)`, so streaming would mean delegate callbacks on an operation queue
/// bridged by hand, without backpressure; it has one request timeout where we need a connect
/// timeout apart from the first-token one; and it rides on the system libcurl. AsyncHTTPClient
/// streams the body as an `AsyncSequence` with backpressure, has its own connect timeout,
/// closes the connection when the task that awaits it is cancelled, speaks TLS through its
/// bundled BoringSSL (no system OpenSSL) and behaves the same on macOS and Linux. The price is
/// build time: SwiftNIO, NIOSSL and NIOHTTP2 from clean (see README).
///
/// What is sent: `model`, `messages`, `stream`, `stream_options.include_usage` (streamed),
/// `temperature`, `top_p`, `max_tokens`, `stop` (when any), `seed` (when set, reduced to 31
/// bits so that servers reading 32-bit or 64-bit signed seeds all accept it), and, with
/// ``Configuration/extendedSampling``, `top_k` and `repeat_penalty`, which llama.cpp's server
/// and Ollama read and vLLM ignores. OpenAI's own API refuses unknown fields: turn it off there.
/// The stop strings are also enforced on the reply as it arrives, since a server may ignore them.
/// ``choose(among:for:)`` sends a `response_format` instead (see there).
///
/// The API key is read once from the environment variable the configuration names, kept in a
/// value that prints as `<redacted>`, and sent only as `Authorization: Bearer`; messages name
/// the variable, never the key.
public struct OpenAIBackend: ChatBackend {
    /// Where the server is and how to talk to it.
    public struct Configuration: Sendable, Hashable {
        /// The API's base, e.g. `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8080/v1`
        /// (llama.cpp), `http://127.0.0.1:8000/v1` (vLLM). A trailing `/` is ignored.
        public var baseURL: String
        /// The model to ask for when a request names none. `nil`: the first one `GET /models`
        /// lists (llama.cpp and a single-model vLLM serve one), asked once per backend.
        public var model: String?
        /// The environment variable that holds the API key (`OPENAI_API_KEY`); `nil` sends none.
        public var apiKeyEnv: String?
        /// How long making the TCP (and TLS) connection may take.
        public var connectTimeout: Duration
        /// From sending the request to the first text of the reply (the connection, the server
        /// loading its model and reading the prompt included). A cold Ollama can take a while.
        public var firstTokenTimeout: Duration
        /// Once text flows, the longest silence between two reads.
        public var idleTimeout: Duration
        /// Stream the reply (SSE); `false` asks for the whole reply at once and yields it as one delta.
        public var streaming: Bool
        /// Send `top_k` and `repeat_penalty` too (llama.cpp, Ollama); off for strict servers.
        public var extendedSampling: Bool
        public var retry: RetryPolicy
        /// The context window the caller should fit prompts into; the server does not say it.
        public var contextLength: Int
        /// A tokenizer endpoint (llama.cpp's `http://host:8080/tokenize`) for ``countTokens(_:)``;
        /// without one, tokens are estimated.
        public var tokenizeURL: String?
        public var sseLimits: SSEParser.Limits

        public init(
            baseURL: String, model: String? = nil, apiKeyEnv: String? = nil, connectTimeout: Duration = .seconds(5),
            firstTokenTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(60), streaming: Bool = true,
            extendedSampling: Bool = true, retry: RetryPolicy = RetryPolicy(), contextLength: Int = 4096,
            tokenizeURL: String? = nil, sseLimits: SSEParser.Limits = SSEParser.Limits()
        ) {
            self.baseURL = baseURL
            self.model = model
            self.apiKeyEnv = apiKeyEnv
            self.connectTimeout = connectTimeout
            self.firstTokenTimeout = firstTokenTimeout
            self.idleTimeout = idleTimeout
            self.streaming = streaming
            self.extendedSampling = extendedSampling
            self.retry = retry
            self.contextLength = contextLength
            self.tokenizeURL = tokenizeURL
            self.sseLimits = sseLimits
        }
    }

    public let configuration: Configuration
    let connection: OpenAIConnection

    /// A backend for `configuration`; the API key, if any, is read from `environment` now.
    public init(_ configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(configuration, environment: environment, sleep: { try await Task.sleep(for: $0) })
    }

    /// With the wait between retries injected, so that tests can see the waits without taking them.
    init(_ configuration: Configuration, environment: [String: String], sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.configuration = configuration
        self.connection = OpenAIConnection(configuration: configuration, environment: environment, sleep: sleep)
    }

    public var description: BackendDescription {
        BackendDescription(kind: "openai", model: configuration.model ?? "(the server's)", location: connection.base,
                           contextLength: configuration.contextLength)
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        stream(request, cancellation: ReplyCancellation())
    }

    public func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        let connection = self.connection
        return AsyncThrowingStream { continuation in
            // The producer is unstructured because the stream outlives this call; cancelling the
            // consumer (or dropping the stream) cancels it, which closes the connection.
            let task = Task {
                do {
                    try await connection.run(request, into: continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
            cancellation.onCancel { task.cancel() }
        }
    }

    /// Asks the tokenizer endpoint when one is configured; otherwise estimates conservatively:
    /// ⌈UTF-8 bytes / 3⌉ per message plus 4 for its role and delimiters, plus 3 for the reply's
    /// opening. English runs near 4 bytes a token in the common tokenizers, code and other
    /// languages fewer, so dividing by 3 overestimates rather than overflow the context.
    public func countTokens(_ messages: [ChatMessage]) async throws -> Int {
        if configuration.tokenizeURL != nil {
            return try await connection.tokenize(messages) + 4 * messages.count + 3
        }
        return Self.estimateTokens(messages)
    }

    /// The estimate ``countTokens(_:)`` uses without a tokenizer.
    public static func estimateTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(3) { $0 + ($1.content.utf8.count + 2) / 3 + 4 }
    }

    /// The models the server offers (`GET {base}/models`), in its order.
    public func listModels() async throws -> [String] {
        try await connection.listModels(timeout: configuration.firstTokenTimeout)
    }

    /// A quick look: the server's model list if it answers `GET {base}/models` within `timeout`.
    /// Throws what went wrong otherwise (not reachable, refused key, not an OpenAI API). No retries.
    public func probe(timeout: Duration = .milliseconds(300)) async throws -> [String] {
        try await connection.listModels(timeout: timeout)
    }
}
