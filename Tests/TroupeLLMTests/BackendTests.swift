import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

@Suite("Embedded backend")
struct BackendTests {
    /// One backend for the suite (requests to it are serialised, as they are for any caller),
    /// loaded on first use off the cooperative pool (seconds in a debug build).
    static let shared = MadeOnce<EmbeddedBackend?>("troupe-test.backend.load") {
        guard let file = EmbeddedBackend.installedModel() else { return nil }
        return try? EmbeddedBackend(modelFile: file)
    }

    static func backend() async throws -> EmbeddedBackend { try #require(try await shared.value(), Comment(rawValue: ModelFixture.missing)) }

    static let greedy = SamplingOptions(temperature: 0, repetitionPenalty: 1, maxTokens: 32)

    static func collect(_ stream: AsyncThrowingStream<ChatEvent, any Error>) async throws -> (deltas: [String], reason: FinishReason?, usage: ChatUsage?) {
        var deltas: [String] = [], reason: FinishReason?, usage: ChatUsage?
        for try await event in stream {
            switch event {
            case .delta(let text): deltas.append(text)
            case .finished(let r, let u):
                reason = r
                usage = u
            }
        }
        return (deltas, reason, usage)
    }

    static func messages(_ c: ModelFixture.PromptCase) -> [ChatMessage] { [ChatMessage(.system, c.system), ChatMessage(.user, c.user)] }

    @Test func streamsTheReferenceGreedyReply() async throws {
        let backend = try await Self.backend()
        let c = try #require(ModelFixture.promptCases.dropFirst().first)
        let reply = try await Self.collect(backend.stream(ChatRequest(messages: Self.messages(c), sampling: Self.greedy)))
        #expect(reply.deltas.joined() == c.greedy_text)
        #expect(reply.deltas.allSatisfy { !$0.isEmpty })
        #expect(reply.reason == .stop)
        #expect(reply.usage?.promptTokens == c.ids.count)
        #expect(reply.usage?.completionTokens == c.greedy.count - 1)  // the final <|im_end|> is not reply text
        #expect(reply.usage?.timeToFirstToken != nil)
        #expect(backend.description.kind == "embedded" && backend.description.contextLength == 8192)
    }

    @Test func countsTokensWithTheTemplate() async throws {
        let backend = try await Self.backend()
        // Counting renders and tokenizes each prompt on the caller's thread: off the pool.
        try await onAThreadOfItsOwn("troupe-test.count-tokens") { () async throws in
            for c in ModelFixture.promptCases {
                #expect(try await backend.countTokens(Self.messages(c)) == c.ids.count)
            }
        }
    }

    /// Two requests at once are served one after the other, each as if alone.
    @Test func concurrentRequestsAreSerialised() async throws {
        let backend = try await Self.backend()
        let c = try #require(ModelFixture.promptCases.dropFirst().first)
        let request = ChatRequest(messages: Self.messages(c), sampling: Self.greedy)
        async let first = Self.collect(backend.stream(request))
        async let second = Self.collect(backend.stream(request))
        let (a, b) = try await (first, second)
        #expect(a.deltas.joined() == c.greedy_text && b.deltas.joined() == c.greedy_text)
    }

    @Test func stopStringsMaxTokensAndSeeds() async throws {
        let backend = try await Self.backend()
        let c = try #require(ModelFixture.promptCases.dropFirst().first)
        var sampling = Self.greedy
        sampling.stop = ["Paris"]
        let stopped = try await backend.complete(ChatRequest(messages: Self.messages(c), sampling: sampling))
        #expect(c.greedy_text.contains("Paris") && stopped.text == String(c.greedy_text[..<c.greedy_text.range(of: "Paris")!.lowerBound]))
        #expect(stopped.finishReason == .stop)

        sampling = Self.greedy
        sampling.maxTokens = 3
        let short = try await backend.complete(ChatRequest(messages: Self.messages(c), sampling: sampling))
        #expect(short.finishReason == .length && short.usage.completionTokens == 3)
        #expect(c.greedy_text.hasPrefix(short.text))

        let seeded = ChatRequest(messages: [ChatMessage(.user, "Tell me about cats.")],
                                 sampling: SamplingOptions(temperature: 0.9, maxTokens: 24, seed: 7))
        let one = try await backend.complete(seeded), two = try await backend.complete(seeded)
        #expect(one.text == two.text && !one.text.isEmpty)
    }

    @Test func aPromptThatDoesNotFitIsRefused() async throws {
        let file = try #require(EmbeddedBackend.installedModel(), Comment(rawValue: ModelFixture.missing))
        let small = try await offThePool("troupe-test.backend.load") { try EmbeddedBackend(modelFile: file, options: .init(contextLength: 32)) }
        #expect(small.description.contextLength == 32)
        let error = await #expect(throws: TroupeError.self) {
            _ = try await small.complete(ChatRequest(messages: [ChatMessage(.user, String(repeating: "word ", count: 40))]))
        }
        #expect(error?.message.contains("context holds 32") == true)
    }

    /// Cancelling the consumer stops generation between two tokens: with no stop token to end it,
    /// the reply would run to its 900-token limit, but it ends within a token of the moment the
    /// cancel reaches it. (When that is depends on the test machine: a busy cooperative pool
    /// delivers the consumer's cancellation late.)
    @Test func cancellingTheConsumerStopsGeneration() async throws {
        let m = try await ModelFixture.model()
        var template = m.template
        template.stopTokens = []
        let queue = GenerationQueue(model: try await ModelFixture.decoder(contextLength: 1024))
        defer { queue.shutdown() }
        let generation = Generation(tokenizer: m.tokenizer, template: template, reusePrompt: true)
        let request = ChatRequest(messages: [ChatMessage(.user, "Tell me a very long story.")],
                                  sampling: SamplingOptions(temperature: 0.8, maxTokens: 900, seed: 1))
        // The consumer holds a cancellation handler over its loop, as a turn does
        // (ChatBackend.forEachEvent): its cancel reaches the job at once, even while the
        // consumer waits for a pool thread with a token in hand.
        let cancellation = ReplyCancellation()
        let (stream, job) = EmbeddedBackend.submit(request, generation: generation, to: queue, cancellation: cancellation)
        let (seen, seenContinuation) = AsyncStream.makeStream(of: Int.self)
        let consumer = Task {
            var deltas = 0
            try await withTaskCancellationHandler {
                for try await event in stream {
                    if case .delta = event {
                        deltas += 1
                        seenContinuation.yield(deltas)
                    }
                }
            } onCancel: {
                cancellation.cancel()
            }
        }
        for await count in seen where count >= 5 { break }
        consumer.cancel()
        // Jobs run in order: once the next one is done, the cancelled one has ended.
        let next = EmbeddedBackend.submit(ChatRequest(messages: [ChatMessage(.user, "Hi")], sampling: Self.greedy), generation: generation, to: queue)
        _ = try await Self.collect(next.stream)
        let outcome = try #require(job.outcome)
        let atCancel = try #require(job.tokensAtCancel)
        #expect(outcome.reason == .cancelled)
        #expect(outcome.usage.completionTokens <= atCancel + 1, "\(outcome.usage.completionTokens) tokens, \(atCancel) when cancelled")
        #expect(outcome.usage.completionTokens < 900)
    }
}
