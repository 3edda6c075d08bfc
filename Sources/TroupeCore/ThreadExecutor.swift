import Foundation

/// A serial executor that runs its jobs on one thread of its own: for actors whose work blocks
/// (hiredis calls wait on a dead server up to their timeout) or computes for long (the recall
/// index scores and ranks every candidate). On the cooperative pool, two cores give two threads:
/// one blocked or busy job halves the process's concurrency and delays every other task, a
/// consumer's cancellation included. An actor on this executor holds only its own thread. Also a
/// `TaskExecutor`, so that nonisolated async work can be sent there with
/// `withTaskExecutorPreference`.
///
/// `@unchecked Sendable`: `jobs`, `running` and `stopping` are only touched under `condition`,
/// which also parks the thread between jobs (a condition, not a `LockedBox`: the thread waits).
public final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let name: String
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// Whether a thread serves the queue; after ``stop()`` none does until the next job.
    private var running = false
    private var stopping = false

    public init(name: String) {
        self.name = name
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        if !running {
            // The first job, or one after `stop()`: a thread of its own again.
            running = true
            stopping = false
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs queued so far have run (a later job starts a new one).
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                running = false
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor()) }
        }
    }
}
