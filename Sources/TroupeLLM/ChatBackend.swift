import Foundation
import TroupeCore

/// Who says a message in a chat request.
public enum ChatRole: String, Sendable, Hashable, Codable {
    case system, user, assistant
}

/// One message of a chat. Its content is always plain text: no backend ever parses control
/// tokens (`<|im_start|>` and the like) out of it, so text from users, memories and other
/// personas cannot open a turn of its own.
public struct ChatMessage: Sendable, Hashable {
    public var role: ChatRole
    public var content: String

    public init(_ role: ChatRole, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat request: the messages, in order, and how to sample the reply.
public struct ChatRequest: Sendable, Hashable {
    public var messages: [ChatMessage]
    public var sampling: SamplingOptions
    /// The model to ask for, when the backend serves several (HTTP backends); `nil` for the
    /// backend's own.
    public var model: String?

    public init(messages: [ChatMessage], sampling: SamplingOptions = SamplingOptions(), model: String? = nil) {
        self.messages = messages
        self.sampling = sampling
        self.model = model
    }
}

/// Why a reply ended.
public enum FinishReason: String, Sendable, Hashable, Codable {
    /// The model ended its turn, or a stop string came.
    case stop
    /// `maxTokens` was reached (or the context is full).
    case length
    /// The caller cancelled.
    case cancelled
}

/// Tokens counted by the backend, and where the time went.
public struct ChatUsage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// From the request to the first text delta.
    public var timeToFirstToken: Duration?
    /// The whole request.
    public var total: Duration?

    public init(promptTokens: Int = 0, completionTokens: Int = 0, timeToFirstToken: Duration? = nil, total: Duration? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.timeToFirstToken = timeToFirstToken
        self.total = total
    }
}

/// What a streamed reply yields: text as it is generated, then one `finished`.
public enum ChatEvent: Sendable, Hashable {
    /// The next piece of the reply (one token or more, always whole UTF-8 characters).
    case delta(String)
    /// The end: why, and the usage.
    case finished(FinishReason, ChatUsage)
}

/// A whole reply.
public struct ChatReply: Sendable, Hashable {
    public var text: String
    public var finishReason: FinishReason
    public var usage: ChatUsage

    public init(text: String, finishReason: FinishReason, usage: ChatUsage) {
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// What a backend is, for `doctor`, logs and transcripts.
public struct BackendDescription: Sendable, Hashable {
    /// `embedded`, `openai`, `offline`.
    public var kind: String
    /// The model's name, as the backend knows it.
    public var model: String
    /// Where it runs: a file path or a base URL.
    public var location: String
    /// The context window in tokens (prompt and reply together).
    public var contextLength: Int

    public init(kind: String, model: String, location: String, contextLength: Int) {
        self.kind = kind
        self.model = model
        self.location = location
        self.contextLength = contextLength
    }
}

/// A chat model: answers a request as a stream of text deltas ending with a usage.
///
/// Cancelling the task that iterates the stream stops generation (the embedded model between
/// two tokens; an HTTP backend closes the connection): at once through ``forEachEvent(_:_:)`` or a
/// ``ReplyCancellation``, else when the task next asks the stream for an event. Errors are
/// ``TroupeError``s that say what happened (`cannot reach …`, `model 'x' not found on the
/// server (it has: …)`).
public protocol ChatBackend: Sendable {
    var description: BackendDescription { get }

    /// Streams the reply to `request`.
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error>

    /// Streams the reply to `request`, stopping as soon as `cancellation` is cancelled, from
    /// whatever thread. (The default hands the stream over as it is: it stops when its consumer
    /// next asks for an event.)
    func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error>

    /// How many tokens `messages` take in this backend's prompt (its template included), so a
    /// caller can fit a prompt into the context. HTTP backends without a tokenizer estimate.
    func countTokens(_ messages: [ChatMessage]) async throws -> Int

    /// The option the model picks for `request` (e.g. the next speaker's name), constrained so the
    /// answer is always one of `options`. (The default completes the request as text and takes the
    /// option it names first; see ``ChatChoice/constrained``.) `options` must not be empty.
    func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice

    /// The reply to `request` as JSON of `schema` (a JSON Schema object; `name` labels it for the
    /// server), constrained where the backend can (`response_format` on OpenAI-compatible
    /// servers), else only asked for by the request's messages (see ``StructuredReply``).
    func completeJSON(_ request: ChatRequest, schema: JSONValue, name: String) async throws -> StructuredReply
}

extension ChatBackend {
    public func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        stream(request)
    }

    /// Streams the reply to `request` into `body`, event by event, until it ends or `body`
    /// returns false. The calling task's cancellation reaches the backend at once.
    ///
    /// A stream's own iterator hears of its task's cancellation only while the task waits in
    /// `next()`. A consumer that has just been handed a token is not waiting: it is queued for
    /// a thread of the cooperative pool, and on a busy machine the model would go on generating
    /// until the pool ran it. Here one cancellation handler covers the whole loop instead.
    public func forEachEvent(_ request: ChatRequest, _ body: (ChatEvent) async throws -> Bool) async throws {
        let cancellation = ReplyCancellation()
        try await withTaskCancellationHandler {
            for try await event in stream(request, cancellation: cancellation) {
                guard try await body(event) else { break }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// The whole reply, gathered from the stream.
    public func complete(_ request: ChatRequest) async throws -> ChatReply {
        var text = ""
        var end: (reason: FinishReason, usage: ChatUsage)?
        try await forEachEvent(request) { event in
            switch event {
            case .delta(let piece): text += piece
            case .finished(let reason, let usage): end = (reason, usage)
            }
            return end == nil
        }
        return ChatReply(text: text, finishReason: end?.reason ?? .cancelled, usage: end?.usage ?? ChatUsage())
    }
}

/// Tells a backend to stop a reply, from whatever thread the consumer's task was cancelled on.
/// Handlers run once, on the cancelling thread: they only flag or cancel, never wait.
public final class ReplyCancellation: Sendable {
    private struct State {
        var cancelled = false
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = LockedBox(State())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Cancels, running the handlers registered so far (later ones run as they register).
    public func cancel() {
        let handlers: [@Sendable () -> Void] = state.withLock { state in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            defer { state.handlers = [] }
            return state.handlers
        }
        for handler in handlers { handler() }
    }

    /// Runs `handler` on cancellation, or now if cancelled already.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            if state.cancelled { return true }
            state.handlers.append(handler)
            return false
        }
        if now { handler() }
    }
}
