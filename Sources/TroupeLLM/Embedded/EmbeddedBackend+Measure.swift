import TroupeCore

extension EmbeddedBackend {
    /// Timings of one measured run (``EmbeddedBackend/measure(_:replyTokens:)``).
    public struct Run: Sendable {
        public var promptTokens: Int
        /// The prompt's ids, so that a peer can be given exactly the same prompt.
        public var promptIDs: [Int32]
        public var replyTokens: Int
        /// Running the prompt, up to its logits.
        public var prefill: Duration
        /// From the call to the first reply token chosen.
        public var timeToFirstToken: Duration
        /// The decode steps after the first reply token (replyTokens − 1 of them).
        public var decode: Duration

        public var prefillTokensPerSecond: Double { Double(promptTokens) / prefill.inSeconds }
        public var decodeTokensPerSecond: Double { Double(max(replyTokens - 1, 0)) / decode.inSeconds }
        public var timeToFirstTokenMilliseconds: Double { timeToFirstToken.inSeconds * 1000 }
    }

    /// Runs `messages` (through the chat template) as a benchmark does: the whole prompt (no
    /// cached prefix is reused), then exactly `replyTokens` greedy tokens, stop tokens or not
    /// (as llama.cpp's `ignore_eos`). It waits its turn behind chat requests like any of them.
    public func measure(_ messages: [ChatMessage], replyTokens: Int) async throws -> Run {
        let prompt = template.render(messages, tokenizer: tokenizer)
        return try await withCheckedThrowingContinuation { continuation in
            queue.submit(MeasuredRun(prompt: prompt, replyTokens: max(1, replyTokens), continuation: continuation))
        }
    }
}

private struct MeasuredRun: QueuedWork {
    let prompt: [Int32]
    let replyTokens: Int
    let continuation: CheckedContinuation<EmbeddedBackend.Run, any Error>
    let submitted = ContinuousClock.now

    func run(on model: LlamaModel) {
        do {
            guard prompt.count + replyTokens <= model.capacity else {
                throw TroupeError(.invalidInput, "\(prompt.count) prompt and \(replyTokens) reply tokens exceed the context of \(model.capacity)")
            }
            let start = ContinuousClock.now
            var logits = try model.prefill(prompt, reuse: false)!
            let prefilled = ContinuousClock.now
            var token = Int32(LLMKernels.argmax(logits.baseAddress!, count: logits.count))
            let first = ContinuousClock.now
            for _ in 1..<replyTokens {
                logits = try model.decode(token)
                token = Int32(LLMKernels.argmax(logits.baseAddress!, count: logits.count))
            }
            let end = ContinuousClock.now
            continuation.resume(returning: EmbeddedBackend.Run(
                promptTokens: prompt.count, promptIDs: prompt, replyTokens: replyTokens, prefill: prefilled - start,
                timeToFirstToken: first - submitted, decode: end - first))
        } catch {
            continuation.resume(throwing: error)
        }
    }

    func abandon() { continuation.resume(throwing: TroupeError(.unavailable, "the embedded model shut down before the run")) }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
