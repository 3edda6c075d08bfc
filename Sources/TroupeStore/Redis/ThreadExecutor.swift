import Foundation

/// A serial executor that runs its jobs on one thread of its own.
///
/// hiredis calls block (on a dead server, up to their timeout). On the cooperative pool, two
/// cores give two threads, and one blocked call would halve the process's concurrency; an actor
/// on this executor blocks only its own thread.
///
/// `@unchecked Sendable`: `jobs` is only touched under `condition`.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        // The thread lives as long as the process: executors are made once per client.
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
