import TroupeCore

/// The backend when there is no chat model: it says so plainly, says how to get one, and shows
/// what the persona recalled (the ``RecalledBlock`` in the request), so that memory and recall
/// can be used and checked without a model.
///
/// The reply depends on the request alone (deterministic) and streams in pieces, a word or so
/// each, like a model's; each piece counts as a token, and `maxTokens` of them end it (the advice
/// on how to install a model comes first). A recalled memory is quoted up to ``quoteLimit``
/// characters, and an earlier reply of this backend among them is named, not quoted: a session
/// whose memories hold replies that quoted memories holding replies would otherwise grow its
/// replies round after round.
public struct OfflineBackend: ChatBackend {
    /// Why there is no model, in a sentence, when the caller knows (from ``BackendSelection``).
    public var reason: String?

    public init(reason: String? = nil) {
        self.reason = reason
    }

    public var description: BackendDescription {
        BackendDescription(kind: "offline", model: "none", location: "-", contextLength: 1 << 20)
    }

    /// How much of a recalled memory's content a reply quotes, in characters.
    public static let quoteLimit = 200

    /// How every reply begins.
    static let opening = "(No chat model is available, so this is not a real reply.)"

    /// The whole reply to `messages`, before `maxTokens` cuts it.
    public func reply(to messages: [ChatMessage]) -> String {
        var text = Self.opening
        if let reason { text += " " + reason.trimmingSuffix(".") + "." }
        text += """
             To get one, run Scripts/setup, which installs the embedded SmolLM2 model, or point \
            TROUPE_LLM_URL (or llm.base_url in Config/troupe.yaml) at an OpenAI-compatible server: \
            Ollama (http://127.0.0.1:11434/v1), a llama.cpp server or vLLM.
            """
        switch RecalledBlock.find(in: messages) {
        case nil:
            text += "\n\nNo recalled memories came with this message."
        case let memories? where memories.isEmpty:
            text += "\n\nI recalled nothing for this message."
        case let memories?:
            text += "\n\nWhat I recalled for this message:"
            for (index, memory) in memories.enumerated() {
                let content = Self.quote(memory.content).split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n   ")
                text += "\n\(index + 1). [\(memory.kind), \(memory.source)] \(content)"
            }
        }
        return text
    }

    /// A memory's content as a reply quotes it: an earlier offline reply inside it named, not
    /// repeated, and the rest cut at ``quoteLimit`` characters.
    static func quote(_ content: String) -> String {
        var text = content
        if let earlier = text.range(of: opening) {
            text = String(text[..<earlier.lowerBound]) + "(a reply given without a model)"
        }
        return text.count > quoteLimit ? String(text.prefix(quoteLimit)) + " …" : text
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        stream(request, cancellation: ReplyCancellation())
    }

    public func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        let whole = Self.pieces(of: reply(to: request.messages))
        let pieces = whole.prefix(max(0, request.sampling.maxTokens))
        let ending: FinishReason = pieces.count < whole.count ? .length : .stop
        let usage = ChatUsage(promptTokens: OpenAIBackend.estimateTokens(request.messages), completionTokens: pieces.count,
                              timeToFirstToken: .zero, total: .zero)
        return AsyncThrowingStream { continuation in
            let task = Task {
                for piece in pieces {
                    // A consumer that stops listening ends the stream between two pieces, as a model's would.
                    if Task.isCancelled { break }
                    continuation.yield(.delta(piece))
                    await Task.yield()
                }
                continuation.yield(.finished(Task.isCancelled ? .cancelled : ending, usage))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
            cancellation.onCancel { task.cancel() }
        }
    }

    public func countTokens(_ messages: [ChatMessage]) async throws -> Int {
        OpenAIBackend.estimateTokens(messages)
    }

    /// The option the last user message names last (whole words, any case), else the first:
    /// deterministic, and always an option.
    public func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        try ChatChoice.check(options)
        let said = request.messages.last { $0.role == .user }?.content ?? ""
        let index = OptionNames.last(in: said, among: options) ?? 0
        let usage = ChatUsage(promptTokens: OpenAIBackend.estimateTokens(request.messages), completionTokens: 1,
                              timeToFirstToken: .zero, total: .zero)
        return ChatChoice(index: index, text: options[index], constrained: true, usage: usage)
    }

    /// Words with the spaces before them: `["Hello", " there", ",", ...]` joined give `text` back.
    static func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            if (character == " " || character == "\n") && !current.isEmpty && !current.allSatisfy({ $0 == " " || $0 == "\n" }) {
                pieces.append(current)
                current = ""
            }
            current.append(character)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
