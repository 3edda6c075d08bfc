import Foundation
import TroupeCore
import TroupeLLM

/// One call to a model, as a session's log keeps it: enough to give the same answer again.
public struct RecordedCall: Sendable, Hashable {
    public var reply: String
    public var finish: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int

    var json: JSONValue {
        .object([
            "reply": .string(reply), "finish": .string(finish.rawValue), "prompt_tokens": .number(Double(promptTokens)),
            "completion_tokens": .number(Double(completionTokens)),
        ])
    }

    init(reply: String, finish: FinishReason, promptTokens: Int, completionTokens: Int) {
        (self.reply, self.finish, self.promptTokens, self.completionTokens) = (reply, finish, promptTokens, completionTokens)
    }

    init?(_ value: JSONValue) {
        guard case .object(let o) = value, case .string(let reply)? = o["reply"], case .string(let f)? = o["finish"],
            let finish = FinishReason(rawValue: f)
        else { return nil }
        var prompt = 0, completion = 0
        if case .number(let n)? = o["prompt_tokens"] { prompt = Int(n) }
        if case .number(let n)? = o["completion_tokens"] { completion = Int(n) }
        self.init(reply: reply, finish: finish, promptTokens: prompt, completionTokens: completion)
    }
}

/// The model calls of a session by scope (a turn: `r3/hestia`; a moderator's choice:
/// `r3/moderator`), in order: filled while a live session runs, read back when one is replayed.
public final class CallBook: Sendable {
    private let calls: LockedBox<[String: [RecordedCall]]>
    /// Which backend answered each scope, as the log says.
    let backends: [String: BackendDescription]

    public init(_ calls: [String: [RecordedCall]] = [:], backends: [String: BackendDescription] = [:]) {
        self.calls = LockedBox(calls)
        self.backends = backends
    }

    func append(_ call: RecordedCall, scope: String) { calls.withLock { $0[scope, default: []].append(call) } }

    /// The calls of `scope` so far.
    func calls(of scope: String) -> [RecordedCall] { calls.withLock { $0[scope] ?? [] } }

    /// The next recorded call of `scope`, taken off the book.
    func take(_ scope: String) -> RecordedCall? {
        calls.withLock { calls in
            guard var list = calls[scope], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            calls[scope] = list
            return first
        }
    }
}

/// A live backend whose every reply is written in the book, under the scope of the turn asking.
struct RecordingBackend: ChatBackend {
    let inner: any ChatBackend
    let book: CallBook

    var description: BackendDescription { inner.description }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        stream(request, cancellation: ReplyCancellation())
    }

    func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        let scope = SessionIDs.scope, inner = inner, book = book
        return AsyncThrowingStream { continuation in
            let task = Task {
                var text = ""
                do {
                    for try await event in inner.stream(request, cancellation: cancellation) {
                        switch event {
                        case .delta(let piece): text += piece
                        case .finished(let reason, let usage):
                            book.append(
                                RecordedCall(reply: text, finish: reason, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens),
                                scope: scope)
                        }
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    // A reply that broke off is recorded as it stood, so a replay breaks off there too.
                    book.append(RecordedCall(reply: text, finish: .cancelled, promptTokens: 0, completionTokens: 0), scope: scope)
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func countTokens(_ messages: [ChatMessage]) async throws -> Int { try await inner.countTokens(messages) }

    /// The inner backend's choice, recorded as the option chosen.
    func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        let choice = try await inner.choose(among: options, for: request)
        book.append(
            RecordedCall(reply: options[choice.index], finish: .stop, promptTokens: choice.usage.promptTokens, completionTokens: choice.usage.completionTokens),
            scope: SessionIDs.scope)
        return choice
    }

    /// The inner backend's JSON (constrained where it can be), recorded as a reply: a replay
    /// reads it back as text, as the live run read it.
    func completeJSON(_ request: ChatRequest, schema: JSONValue, name: String) async throws -> StructuredReply {
        let reply = try await inner.completeJSON(request, schema: schema, name: name)
        book.append(
            RecordedCall(reply: reply.text, finish: .stop, promptTokens: reply.usage.promptTokens, completionTokens: reply.usage.completionTokens),
            scope: SessionIDs.scope)
        return reply
    }
}

/// Replies from a session's log instead of a model: each call gets the next recorded reply of
/// its scope, whole, and the turn is told the backend that answered it then.
struct ReplayBackend: ChatBackend {
    let book: CallBook
    let fallback: BackendDescription

    var description: BackendDescription { book.backends[SessionIDs.scope] ?? fallback }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let scope = SessionIDs.scope
        let call = book.take(scope)
        return AsyncThrowingStream { continuation in
            guard let call else {
                return continuation.finish(throwing: TroupeError(.invalidInput, "the log has no more recorded replies for \(scope)"))
            }
            if !call.reply.isEmpty { continuation.yield(.delta(call.reply)) }
            if call.finish == .cancelled {
                continuation.finish(throwing: TroupeError(.unavailable, "the recorded reply broke off here"))
                return
            }
            continuation.yield(.finished(call.finish, ChatUsage(promptTokens: call.promptTokens, completionTokens: call.completionTokens)))
            continuation.finish()
        }
    }

    func countTokens(_ messages: [ChatMessage]) async throws -> Int { OpenAIBackend.estimateTokens(messages) }

    /// The option recorded for the scope; an option the session file no longer offers is an error.
    func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        let scope = SessionIDs.scope
        guard let call = book.take(scope) else { throw TroupeError(.invalidInput, "the log has no more recorded choices for \(scope)") }
        guard let index = options.firstIndex(of: call.reply) else {
            throw TroupeError(.invalidInput, "the log chose '\(call.reply)' for \(scope), which is not among \(options.joined(separator: ", ")): the session file changed since?")
        }
        return ChatChoice(index: index, text: call.reply, constrained: true, usage: ChatUsage(promptTokens: call.promptTokens, completionTokens: call.completionTokens))
    }
}
