import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TroupeCore

/// What an ``OpenAIBackend`` shares between its copies and its requests: the configuration,
/// the key, the HTTP client and the model name learnt from the server.
final class OpenAIConnection: Sendable {
    let configuration: OpenAIBackend.Configuration
    /// The base URL without a trailing `/`, as messages show it.
    let base: String
    let apiKey: APIKey?
    let client: HTTPClient
    let sleep: @Sendable (Duration) async throws -> Void
    /// The first model `GET /models` listed, when the configuration names none.
    private let learntModel = NIOLockedValueBox<String?>(nil)

    init(configuration: OpenAIBackend.Configuration, environment: [String: String],
         sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.configuration = configuration
        var base = configuration.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.apiKey = configuration.apiKeyEnv.flatMap { APIKey(variable: $0, environment: environment) }
        self.client = SharedHTTPClients.client(connectTimeout: configuration.connectTimeout)
        self.sleep = sleep
    }

    /// Streams one reply into `continuation`, retrying what may be retried until the first token.
    /// With a `format`, the reply is asked for whole (not streamed) in that format, and a server
    /// that refuses the request (400, 422) throws ``FormatRefused``.
    func run(_ request: ChatRequest, format: OpenAIWire.ResponseFormat? = nil,
             into continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation) async throws {
        try checkBaseURL()
        let started = ContinuousClock.now
        let model = await resolveModel(request.model)
        let body = try JSONEncoder().encode(chatBody(request, model: model, format: format))
        let shape = ReplyShape(streaming: format == nil && configuration.streaming, stop: request.sampling.stop)
        let progress = StreamProgress()
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await attemptOnce(body: body, shape: shape, model: model, request: request, progress: progress,
                                      started: started, into: continuation)
                return
            } catch let failure as AttemptFailure {
                if format != nil, let status = failure.status, [400, 422].contains(status) { throw FormatRefused(error: failure.error) }
                guard failure.retryable, progress.pieces == 0, attempt < configuration.retry.maxAttempts else {
                    var error = failure.error
                    if attempt > 1 { error.message += " (tried \(attempt) times)" }
                    throw error
                }
                if let asked = failure.retryAfter, asked > configuration.retry.maxRetryAfter {
                    var error = failure.error
                    let limit = configuration.retry.maxRetryAfter.spoken
                    error.message += "; it asks to retry after \(asked.spoken), longer than the \(limit) Troupe waits"
                    throw error
                }
                try await sleep(configuration.retry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter, using: &random))
            }
        }
    }

    func chatBody(_ request: ChatRequest, model: String?, format: OpenAIWire.ResponseFormat? = nil) -> OpenAIWire.ChatBody {
        let sampling = request.sampling
        let extended = configuration.extendedSampling
        let streaming = format == nil && configuration.streaming
        return OpenAIWire.ChatBody(
            model: model,
            messages: request.messages.map { .init(role: $0.role.rawValue, content: $0.content) },
            stream: streaming,
            streamOptions: streaming ? .init(includeUsage: true) : nil,
            temperature: sampling.temperature, topP: sampling.topP, maxTokens: sampling.maxTokens,
            stop: sampling.stop.isEmpty ? nil : sampling.stop,
            seed: sampling.seed.map { Int($0 & 0x7FFF_FFFF) },
            topK: extended ? sampling.topK : nil,
            repeatPenalty: extended ? sampling.repetitionPenalty : nil,
            responseFormat: format)
    }

    /// The request's model, else the configured one, else the first the server lists (asked
    /// once). `nil` when the server cannot say: the field is then left out, which llama.cpp accepts.
    func resolveModel(_ requested: String?) async -> String? {
        if let model = requested ?? configuration.model { return model }
        if let learnt = learntModel.withLockedValue({ $0 }) { return learnt }
        guard let first = try? await listModels(timeout: configuration.connectTimeout + .seconds(5)).first else { return nil }
        learntModel.withLockedValue { $0 = first }
        return first
    }

    /// `GET {base}/models`, within `timeout` (all of it: connection, head and body). No retries.
    func listModels(timeout: Duration) async throws -> [String] {
        try checkBaseURL()
        var request = HTTPClientRequest(url: base + "/models")
        addHeaders(to: &request, streaming: false)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, deadline: deadline)
            body = try await response.body.collect(upTo: configuration.sseLimits.maxEventBytes)
        } catch {
            throw transportFailure(error, receiving: false, deadline: timeout).error
        }
        guard response.status == .ok else {
            throw statusFailure(response.status, headers: response.headers, body: body, model: nil, path: "/models").error
        }
        do {
            return try JSONDecoder().decode(OpenAIWire.ModelList.self, from: Data(body.readableBytesView)).names
        } catch {
            throw TroupeError(.unavailable, "\(base)/models answered, but not with a model list: \(ChatStreamDecoder.explain(error))")
        }
    }

    /// The token count the configured tokenizer endpoint gives for the messages' text.
    func tokenize(_ messages: [ChatMessage]) async throws -> Int {
        guard let url = configuration.tokenizeURL else { return OpenAIBackend.estimateTokens(messages) }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        // The key goes only to the chat server's own host, not to wherever a tokenizer URL points.
        addHeaders(to: &request, streaming: false, withKey: URL(string: url)?.host == URL(string: base)?.host)
        let text = messages.map(\.content).joined(separator: "\n")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(OpenAIWire.TokenizeBody(content: text))))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, deadline: .now() + TimeAmount(configuration.firstTokenTimeout))
            body = try await response.body.collect(upTo: configuration.sseLimits.maxEventBytes)
        } catch {
            throw transportFailure(error, receiving: false, deadline: configuration.firstTokenTimeout).error
        }
        guard response.status == .ok else {
            throw statusFailure(response.status, headers: response.headers, body: body, model: nil, path: url).error
        }
        let answer = try? JSONDecoder().decode(OpenAIWire.TokenizeAnswer.self, from: Data(body.readableBytesView))
        guard let count = answer?.count ?? answer?.tokens?.count else {
            throw TroupeError(.unavailable, "\(url) answered, but not with tokens ({\"tokens\": [...]} or {\"count\": n})")
        }
        return count
    }

    func addHeaders(to request: inout HTTPClientRequest, streaming: Bool, withKey: Bool = true) {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: streaming ? "text/event-stream" : "application/json")
        request.headers.add(name: "User-Agent", value: "troupe")
        if withKey, let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey.value)") }
    }

    private func checkBaseURL() throws {
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host?.isEmpty == false else {
            throw TroupeError(.invalidConfig, "the chat server's base URL '\(base)' is not an http:// or https:// URL")
        }
    }
}

extension OpenAIConnection: CustomReflectable {
    /// Only what identifies the server: the HTTP client below holds requests in flight, and
    /// their `Authorization` headers, which `dump` would otherwise walk into.
    var customMirror: Mirror {
        Mirror(self, children: ["base": base, "model": configuration.model as Any, "apiKey": apiKey as Any], displayStyle: .class)
    }
}

/// How much of a reply has been yielded, across the tries of one request: once a piece is out,
/// nothing is retried.
final class StreamProgress: Sendable {
    private struct State {
        var pieces = 0
        var firstTokenAt: ContinuousClock.Instant?
    }
    private let state = NIOLockedValueBox(State())

    var pieces: Int { state.withLockedValue { $0.pieces } }
    var firstTokenAt: ContinuousClock.Instant? { state.withLockedValue { $0.firstTokenAt } }

    /// Counts a piece; returns whether it was the first.
    func yielded() -> Bool {
        state.withLockedValue {
            $0.pieces += 1
            if $0.firstTokenAt == nil {
                $0.firstTokenAt = .now
                return true
            }
            return false
        }
    }
}

/// One try's failure, with whether another try may help.
struct AttemptFailure: Error {
    var error: TroupeError
    var retryable: Bool
    var retryAfter: Duration?
    /// The HTTP status, when the server refused the request as malformed (400, 413, 422).
    var status: Int?
}

/// The server refused a request with a `response_format` (400 or 422): it may not support one.
struct FormatRefused: Error {
    var error: TroupeError
}

/// How one request's reply is read: streamed or whole, and the stop strings that end it here,
/// whether or not the server honoured them.
struct ReplyShape: Sendable {
    var streaming: Bool
    var stop: [String]
}
