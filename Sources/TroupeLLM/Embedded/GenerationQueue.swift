import Foundation
import TroupeCore

/// One request waiting for, or in, generation.
///
/// `@unchecked Sendable`: `cancelled` is only touched under `lock`; everything else is
/// immutable (the continuation is Sendable).
final class GenerationJob: @unchecked Sendable {
    let request: ChatRequest
    let continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    let submitted: ContinuousClock.Instant
    private let lock = NSLock()
    private var cancelled = false

    init(request: ChatRequest, continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation) {
        self.request = request
        self.continuation = continuation
        submitted = .now
    }

    var isCancelled: Bool { lock.withLock { cancelled } }

    func cancel() { lock.withLock { cancelled = true } }
}

/// The model's own thread and the requests waiting for it: requests run one at a time, in
/// order, on this thread (and the kernels' pool threads), never on Swift's cooperative pool, so
/// awaiting callers block nothing.
///
/// `@unchecked Sendable`: the queue and the flag are only touched under `condition`; the model
/// lives inside the thread's closure and is used by that thread alone.
final class GenerationQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [GenerationJob] = []
    private var stopping = false

    /// Starts the thread, which runs `work` for each job (with the model it was handed).
    init(model: LlamaModel, work: @escaping @Sendable (LlamaModel, GenerationJob) -> Void) {
        // The model is handed to the thread once and used only there from then on.
        let owned = Handoff(model)
        let thread = Thread { [self] in
            let model = owned.value
            while let job = self.nextJob() { work(model, job) }
        }
        thread.name = "troupe-llm"
        thread.stackSize = 4 << 20
        thread.start()
    }

    func submit(_ job: GenerationJob) {
        condition.withLock {
            if stopping {
                job.continuation.finish(throwing: TroupeError(.unavailable, "the embedded model has shut down"))
            } else {
                jobs.append(job)
                condition.signal()
            }
        }
    }

    /// Ends the thread once the job in progress is done; waiting jobs end as cancelled.
    func shutdown() {
        let waiting: [GenerationJob] = condition.withLock {
            stopping = true
            defer { jobs.removeAll() }
            condition.signal()
            return jobs
        }
        for job in waiting {
            job.continuation.yield(.finished(.cancelled, ChatUsage()))
            job.continuation.finish()
        }
    }

    private func nextJob() -> GenerationJob? {
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
