import TroupeCore

extension EmbeddedBackend {
    /// Constrained decoding: the prompt as ``stream(_:)`` runs it, then greedy steps that may only
    /// take a token continuing some option's tokens (with or without a leading space, see
    /// ``ChoiceTrie``), until one option is complete, so the answer is always an option, even one
    /// the model would never write unasked. Where an option is complete and a longer one goes on,
    /// the end-of-turn token's logit decides. Deterministic (the request's sampling is not used),
    /// run on the model's thread in turn with replies, and cancelled with the calling task.
    public func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        try ChatChoice.check(options)
        let job = ChoiceJob(options: options, messages: request.messages, generation: generation)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                job.attach(continuation)
                queue.submit(job)
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// One choice waiting for, or on, the model's thread. Its caller's cancellation answers it at
/// once (with `CancellationError`); the model's thread then skips it, or stops between two steps.
final class ChoiceJob: QueuedWork, Sendable {
    let options: [String]
    let messages: [ChatMessage]
    let generation: Generation
    let submitted = ContinuousClock.now
    private let state = LockedBox(State())

    private struct State {
        var continuation: CheckedContinuation<ChatChoice, any Error>?
        var cancelled = false
    }

    init(options: [String], messages: [ChatMessage], generation: Generation) {
        self.options = options
        self.messages = messages
        self.generation = generation
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func attach(_ continuation: CheckedContinuation<ChatChoice, any Error>) {
        let cancelled: Bool = state.withLock { state in
            if !state.cancelled { state.continuation = continuation }
            return state.cancelled
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.continuation.take()
        }?.resume(throwing: CancellationError())
    }

    func abandon() { resume(.failure(TroupeError(.unavailable, "the embedded model shut down before the choice"))) }

    private func resume(_ result: Result<ChatChoice, any Error>) {
        state.withLock { $0.continuation.take() }?.resume(with: result)
    }

    func run(on model: LlamaModel) {
        guard !isCancelled else { return }
        resume(Result { try decode(on: model) })
    }

    private func decode(on model: LlamaModel) throws -> ChatChoice {
        let tokenizer = generation.tokenizer, template = generation.template
        if options.count == 1 { return ChatChoice(index: 0, text: options[0], constrained: true, usage: ChatUsage()) }
        let prompt = template.render(messages, tokenizer: tokenizer)
        let trie = ChoiceTrie(options: options, tokenizer: tokenizer)
        guard prompt.count + trie.depth <= model.capacity else {
            throw TroupeError(.invalidInput, "the prompt and the longest option take \(prompt.count + trie.depth) tokens; the model's context holds \(model.capacity)")
        }
        guard var logits = try model.prefill(prompt, reuse: generation.reusePrompt, isCancelled: { self.isCancelled }) else {
            throw CancellationError()
        }
        var node = 0
        var taken: [Int32] = []
        while true {
            guard let step = trie.step(at: node, logits: logits, endTokens: template.stopTokens) else {
                throw TroupeError(.invalidInput, "no option of the choice can be written")
            }
            switch step {
            case .end(let index):
                return choice(index, taken, promptTokens: prompt.count)
            case .token(let token, let next):
                taken.append(token)
                node = next
                if trie.isLeaf(next), let index = trie.nodes[next].option { return choice(index, taken, promptTokens: prompt.count) }
                if isCancelled { throw CancellationError() }
                logits = try model.decode(token)
            }
        }
    }

    private func choice(_ index: Int, _ tokens: [Int32], promptTokens: Int) -> ChatChoice {
        let usage = ChatUsage(promptTokens: promptTokens, completionTokens: tokens.count, total: .now - submitted)
        return ChatChoice(index: index, text: generation.tokenizer.decode(tokens), constrained: true, usage: usage)
    }
}
