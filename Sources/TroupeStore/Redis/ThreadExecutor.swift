import Foundation

/// A serial executor that runs its jobs on one thread of its own.
///
/// hiredis calls block (on a dead server, up to their timeout). On the cooperative pool, two
/// cores give two threads, and one blocked call would halve the process's concurrency; an actor
/// on this executor blocks only its own thread.
///
/// `@unchecked Sendable`: `jobs`, `running` and `stopping` are only touched under `condition`.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let name: String
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// Whether a thread serves the queue; after ``stop()`` none does until the next job.
    private var running = false
    private var stopping = false

    init(name: String) {
        self.name = name
    }

    func enqueue(_ job: consuming ExecutorJob) {
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
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

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
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
