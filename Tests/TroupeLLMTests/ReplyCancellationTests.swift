import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

@Suite("Reply cancellation")
struct ReplyCancellationTests {
    /// A backend that sends one piece of text and then holds the reply open, keeping the
    /// cancellation each request came with.
    final class HoldingBackend: ChatBackend {
        let cancellations = LockedBox([ReplyCancellation]())
        var description: BackendDescription { BackendDescription(kind: "test", model: "holding", location: "-", contextLength: 1024) }

        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            stream(request, cancellation: ReplyCancellation())
        }

        func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
            cancellations.withLock { $0.append(cancellation) }
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatEvent.self)
            continuation.yield(.delta("Once upon a time"))
            cancellation.onCancel { continuation.finish() }
            return stream
        }

        func countTokens(_ messages: [ChatMessage]) async throws -> Int { 0 }
    }

    @Test func cancellingTheConsumerReachesTheBackendAtOnceEvenWhileItIsBusyWithAPiece() async throws {
        let backend = HoldingBackend()
        let (received, gotPiece) = AsyncStream.makeStream(of: Void.self)
        let release = Release()
        let consumer = Task {
            try await backend.forEachEvent(ChatRequest(messages: [ChatMessage(.user, "Tell me a story.")])) { _ in
                gotPiece.yield()
                // Busy with the piece, not waiting for the next one: a stream's own iterator
                // would not hear of a cancel now.
                await release.wait()
                return true
            }
        }
        for await _ in received { break }
        let cancellation = try #require(backend.cancellations.value.first)
        #expect(!cancellation.isCancelled)
        consumer.cancel()
        // Told on the cancelling thread, before the consumer runs again.
        #expect(cancellation.isCancelled)
        release.open()
        try await consumer.value
    }

    @Test func aHandlerRegisteredAfterTheCancelRunsAtOnceAndEachRunsOnce() {
        let cancellation = ReplyCancellation()
        let runs = LockedBox(0)
        cancellation.onCancel { runs.withLock { $0 += 1 } }
        cancellation.cancel()
        cancellation.cancel()
        #expect(runs.value == 1)
        cancellation.onCancel { runs.withLock { $0 += 1 } }
        #expect(runs.value == 2)
    }

    @Test func aCancelledEmbeddedJobStopsBetweenTwoTokens() async throws {
        let m = try await ModelFixture.model()
        var template = m.template
        template.stopTokens = []
        let queue = GenerationQueue(model: try await ModelFixture.decoder(contextLength: 1024))
        defer { queue.shutdown() }
        let generation = Generation(tokenizer: m.tokenizer, template: template, reusePrompt: true)
        let cancellation = ReplyCancellation()
        let request = ChatRequest(messages: [ChatMessage(.user, "Tell me a very long story.")],
                                  sampling: SamplingOptions(temperature: 0.8, maxTokens: 900, seed: 1))
        let (stream, job) = EmbeddedBackend.submit(request, generation: generation, to: queue, cancellation: cancellation)
        var pieces = 0
        // Nobody cancels the consumer: the cancellation alone stops the job.
        for try await event in stream {
            guard case .delta = event else { continue }
            pieces += 1
            if pieces == 5 { cancellation.cancel() }
        }
        let outcome = try #require(job.outcome)
        let atCancel = try #require(job.tokensAtCancel)
        #expect(outcome.reason == .cancelled)
        #expect(outcome.usage.completionTokens <= atCancel + 1, "\(outcome.usage.completionTokens) tokens, \(atCancel) when cancelled")
    }
}

/// Holds a task until opened (its wait ignores cancellation, as work on a piece may).
private actor Release {
    private var opened = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if opened { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    nonisolated func open() { Task { await self.openNow() } }

    private func openNow() {
        opened = true
        for waiter in waiting { waiter.resume() }
        waiting = []
    }
}
