import Foundation
import TroupeCore

/// Work for the model's thread: a chat request, or a measured run.
protocol QueuedWork: Sendable {
    /// Runs on the generation thread, which owns `model`.
    func run(on model: LlamaModel)
    /// The backend shut down before this ran.
    func abandon()
}

/// One chat request waiting for, or in, generation.
final class GenerationJob: QueuedWork, Sendable {
    let request: ChatRequest
    let continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    let submitted: ContinuousClock.Instant
    let generation: Generation
    private let state = LockedBox(State())

    private struct State {
        var cancelled = false
        var ended: (reason: FinishReason, usage: ChatUsage)?
        var endedAt: ContinuousClock.Instant?
        var produced = 0
        var producedAtCancel: Int?
    }

    init(request: ChatRequest, generation: Generation, continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation) {
        self.request = request
        self.generation = generation
        self.continuation = continuation
        submitted = .now
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func cancel() {
        state.withLock { state in
            if !state.cancelled { state.producedAtCancel = state.produced }
            state.cancelled = true
        }
    }

    /// Counts one more reply token.
    func advance() { state.withLock { $0.produced += 1 } }

    /// Reply tokens generated when the cancel came (nil if none came).
    var tokensAtCancel: Int? { state.withLock { $0.producedAtCancel } }

    /// How the job ended, once it has (also when nobody was listening any more).
    var outcome: (reason: FinishReason, usage: ChatUsage)? { state.withLock { $0.ended } }

    /// When the job ended (the model's thread let go of it), once it has.
    var endedAt: ContinuousClock.Instant? { state.withLock { $0.endedAt } }

    /// Ends the reply: records the outcome, then yields it and closes the stream.
    func finish(_ reason: FinishReason, _ usage: ChatUsage) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.ended = (reason, usage)
            state.endedAt = now
        }
        continuation.yield(.finished(reason, usage))
        continuation.finish()
    }

    func run(on model: LlamaModel) { generation.serve(self, on: model) }

    func abandon() { finish(.cancelled, ChatUsage()) }
}

/// The model's own thread and the requests waiting for it: requests run one at a time, in
/// order, on this thread (and the kernels' pool threads), never on Swift's cooperative pool, so
/// awaiting callers block nothing.
///
/// `@unchecked Sendable`: the queue and the flag are only touched under `condition`; the model
/// lives inside the thread's closure and is used by that thread alone.
final class GenerationQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [any QueuedWork] = []
    private var stopping = false

    /// Starts the thread, which runs each job with the model it was handed.
    init(model: LlamaModel) {
        // The model is handed to the thread once and used only there from then on.
        let owned = Handoff(model)
        let thread = Thread { [self] in
            let model = owned.value
            while let job = self.nextJob() { job.run(on: model) }
        }
        thread.name = "troupe-llm"
        thread.stackSize = 4 << 20
        thread.start()
    }

    func submit(_ job: any QueuedWork) {
        let refused: Bool = condition.withLock {
            if stopping { return true }
            jobs.append(job)
            condition.signal()
            return false
        }
        if refused { job.abandon() }
    }

    /// Ends the thread once the job in progress is done; waiting jobs end as cancelled.
    func shutdown() {
        let waiting: [any QueuedWork] = condition.withLock {
            stopping = true
            defer { jobs.removeAll() }
            condition.signal()
            return jobs
        }
        for job in waiting { job.abandon() }
    }

    private func nextJob() -> (any QueuedWork)? {
        condition.withLock {
            while jobs.isEmpty && !stopping { condition.wait() }
            return stopping ? nil : jobs.removeFirst()
        }
    }
}

/// Moves a non-Sendable value to the one thread that will use it.
private final class Handoff<Value>: @unchecked Sendable {
    // `@unchecked`: written once before the thread starts, then read by that thread only.
    let value: Value
    init(_ value: Value) { self.value = value }
}
