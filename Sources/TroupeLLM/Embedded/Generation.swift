import TroupeCore

/// One request on the generation thread: the prompt through the template, the prompt run,
/// then token after token until a stop token, a stop string, a repeated sentence, `maxTokens`, a
/// full context or the consumer's cancellation; text goes out as it becomes certain.
struct Generation: Sendable {
    let tokenizer: BPETokenizer
    let template: ChatTemplate
    let reusePrompt: Bool
    /// The DRY penalty's breakers, found in the vocabulary once.
    let breakers: Set<Int32>

    init(tokenizer: BPETokenizer, template: ChatTemplate, reusePrompt: Bool) {
        self.tokenizer = tokenizer
        self.template = template
        self.reusePrompt = reusePrompt
        breakers = TokenSampler.sequenceBreakers(tokenizer)
    }

    func serve(_ job: GenerationJob, on model: LlamaModel) {
        let out = job.continuation
        guard !job.isCancelled else { return job.finish(.cancelled, ChatUsage()) }
        let sampling = job.request.sampling
        let prompt = template.render(job.request.messages, tokenizer: tokenizer)
        guard prompt.count < model.capacity else {
            out.finish(throwing: TroupeError(
                .invalidInput, "the prompt takes \(prompt.count) tokens; the model's context holds \(model.capacity) (prompt and reply)"))
            return
        }
        do {
            guard var logits = try model.prefill(prompt, reuse: reusePrompt, isCancelled: { job.isCancelled }) else {
                return job.finish(.cancelled, ChatUsage(promptTokens: prompt.count))
            }
            var sampler = TokenSampler(options: sampling, breakers: breakers)
            var text = ReplyText(stop: sampling.stop, repeats: sampling.stopsAtRepeatedSentence)
            var history = prompt
            var firstDelta: Duration?
            var generated = 0
            var reason = FinishReason.length
            func emit(_ delta: String) {
                guard !delta.isEmpty else { return }
                if firstDelta == nil { firstDelta = .now - job.submitted }
                out.yield(.delta(delta))
            }
            while sampling.maxTokens > 0 {
                let token = sampler.next(logits, recent: history.suffix(TokenSampler.penaltyWindow), reply: history[prompt.count...])
                if template.stopTokens.contains(token) {
                    reason = .stop
                    break
                }
                generated += 1
                job.advance()
                history.append(token)
                emit(text.append(tokenizer.bytes(of: token)))
                if text.stopped {
                    reason = .stop
                    break
                }
                if generated >= sampling.maxTokens || model.cachedTokens.count >= model.capacity { break }
                if job.isCancelled {
                    reason = .cancelled
                    break
                }
                logits = try model.decode(token)
            }
            if reason != .cancelled { emit(text.finish()) }
            let usage = ChatUsage(
                promptTokens: prompt.count, completionTokens: generated, timeToFirstToken: firstDelta, total: .now - job.submitted)
            job.finish(reason, usage)
        } catch {
            out.finish(throwing: error)
        }
    }
}
