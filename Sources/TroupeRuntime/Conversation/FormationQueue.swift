import Foundation
import Logging
import TroupeCore
import TroupeStore

/// Formation after the reply, in the background, and never lost: a job is written down in the
/// store (``FormationQueueStore``) before it starts and removed when its facts are stored, so
/// one still under way when the process ends is done by the next runtime of the home, or by
/// any other process of the same store (several machines share one on PostgreSQL) once its
/// lease has run out (``resume(runtime:)``). Jobs run one at a time, in the order they were
/// written: reading facts may take the chat model, and a backlog must not crowd out the next
/// turn (or run the model many times over at once).
///
/// **Leases.** A job written down here is held by this process (``owner``) from the start; a
/// job taken from the queue is claimed first. While it holds jobs, the process renews their
/// leases every third of a term (FormationQueue+Lease.swift), and before starting one it checks
/// that the job is still its own, so that two processes never form a job at once unless one
/// stalled for longer than a lease. A job that fails stays queued and is tried again later,
/// by whichever process claims it, waiting longer after each failure.
public final class FormationQueue: Sendable {
    /// How long claims hold, and how many jobs one claim takes.
    public struct Lease: Sendable {
        /// How long a job stays its holder's without renewal: how long the jobs of a process that
        /// ended wait before another takes them over.
        public var term: TimeInterval = 60
        /// How many free jobs one claim takes; more are claimed when they are done.
        public var batch = 16

        public init(term: TimeInterval = 60, batch: Int = 16) {
            self.term = term
            self.batch = batch
        }

        /// How often a holder renews its leases: one renewal can be late twice before one lapses.
        var renewal: Duration { .milliseconds(Int64(term * 1000 / 3)) }
        /// How often a long-lived runtime looks for jobs whose lease has run out.
        public var sweep: Duration { .milliseconds(Int64(term * 1000 / 2)) }
    }

    struct Held {
        let task: Task<Void, Never>
        /// The conversation whose turn it forms.
        let conversation: String
        /// In the store and held by this process (a job that could not be written down is not).
        let writtenDown: Bool
        /// Forming now, or done: no longer handed back when the process stops.
        var started = false
    }

    struct State {
        /// Jobs this process holds, waiting their turn or forming.
        var held: [String: Held] = [:]
        /// The job started last: the next one waits for it.
        var last: Task<Void, Never>?
        /// Renews the leases while jobs are held (FormationQueue+Lease.swift).
        var keeper: Task<Void, Never>?
        /// The import of an older version's file, under way or done (FormationQueue+Legacy.swift).
        var legacyImport: Task<Bool, Never>?
        /// Jobs of other processes are taken on: more are claimed when the backlog is done.
        var resuming = false
        /// Stopped: no job starts any more.
        var closed = false
    }

    let store: any FormationQueueStore
    let clock: any WallClock
    let logger: Logger
    public let lease: Lease
    /// The file older versions kept the queue in, imported into the store once.
    let legacyFile: URL
    /// This process's name in the claims it holds: the host, the process and a random part.
    public let owner: String
    let state = LockedBox(State())

    init(home: URL, store: any FormationQueueStore, clock: any WallClock, logger: Logger, lease: Lease = Lease()) {
        (self.store, self.clock, self.logger, self.lease) = (store, clock, logger, lease)
        legacyFile = home.appendingPathComponent("formation/pending.jsonl")
        owner = "\(Self.hostName()):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Jobs written down and not done, in order, whoever holds them.
    public func pending() async throws -> [FormationJob] {
        await importLegacyFile()
        return try await store.pendingFormations().compactMap(FormationJob.init)
    }

    /// Writes `job` down, held by this process, then forms its memories in the background. A
    /// job that cannot be written down (the store is unreachable or its disk full) is still
    /// formed, with a warning that a crash would lose it.
    func enqueue(_ job: FormationJob, runtime: Runtime, conversation: Conversation?) async {
        await importLegacyFile()
        start(job, writtenDown: await writeDown(job), runtime: runtime, conversation: conversation)
    }

    /// Writes `job` down in the store, held by this process for a lease; whether it was.
    func writeDown(_ job: FormationJob) async -> Bool {
        let now = clock.now()
        do {
            if try await store.enqueueFormation(job.queued(at: now, holder: owner, until: now.addingTimeInterval(lease.term))) { return true }
            logger.warning("memory formation for turn \(job.turn) of \(job.conversation) is not written down (a job with id \(job.id) is queued already); it is formed now, but a crash before it is done loses it")
        } catch {
            logger.warning("memory formation for turn \(job.turn) of \(job.conversation) is not written down (\(error)); it is formed now, but a crash before it is done loses it")
        }
        return false
    }

    /// Takes on the jobs that are free in the store (left by a process that ended, handed back
    /// by one that stopped, or whose holder's lease ran out) and forms them here; from now on
    /// more are claimed whenever this process's backlog is done. A process with a backlog of
    /// its own claims nothing now: it would only keep the jobs from idle processes.
    func resume(runtime: Runtime) async {
        await importLegacyFile()
        let idle = state.withLock { state in
            state.resuming = true
            return state.held.isEmpty
        }
        if idle { await claim(runtime: runtime) }
    }

    /// Waits for the jobs under way, at most `timeout`; those not done stay written down.
    package func drain(timeout: Duration) async {
        await wait(for: state.withLock { $0.held.values.map(\.task) }, timeout: timeout)
    }

    /// Waits for the jobs of `conversation` that this process holds, at most `timeout`: a turn
    /// recalls what the turns before it formed (a person who says "the freeze now starts on 17
    /// April" and then asks about the freeze is answered from the new fact), unless forming
    /// them takes longer than that.
    func settle(conversation: String, timeout: Duration) async {
        await wait(for: state.withLock { $0.held.values.filter { $0.conversation == conversation }.map(\.task) }, timeout: timeout)
    }

    private func wait(for tasks: [Task<Void, Never>], timeout: Duration) async {
        guard !tasks.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in tasks { await task.value } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops: no job starts any more, leases are no longer renewed, and the jobs held here that
    /// have not started are handed back, for the next process to take at once. A job still
    /// forming keeps its claim, which lapses after a term if the process ends before it is done.
    func close() async {
        let (waiting, keeper) = state.withLock { state in
            state.closed = true
            defer { state.keeper = nil }
            return (state.held.filter { $0.value.writtenDown && !$0.value.started }.map(\.key), state.keeper)
        }
        keeper?.cancel()
        guard !waiting.isEmpty else { return }
        do {
            _ = try await store.releaseFormations(waiting, owner: owner)
        } catch {
            logger.warning("\(waiting.count) memory formation jobs could not be handed back (\(error)); another process takes them when their lease runs out")
        }
    }

    /// Chains `job` after the last one started, as a task.
    func start(_ job: FormationJob, writtenDown: Bool, runtime: Runtime, conversation: Conversation?) {
        // Under the lock only to chain the job after the last one; its work runs in the task.
        state.withLock { state in
            let previous = state.last
            let task = Task { [weak conversation] in
                await previous?.value
                await self.form(job, writtenDown: writtenDown, runtime: runtime, conversation: conversation)
            }
            state.held[job.id] = Held(task: task, conversation: job.conversation, writtenDown: writtenDown)
            state.last = task
            if writtenDown, state.keeper == nil, !state.closed { state.keeper = Task { await self.keepLeases() } }
        }
    }

    private func form(_ job: FormationJob, writtenDown: Bool, runtime: Runtime, conversation: Conversation?) async {
        // Marked started before the check below, so that `close` no longer hands it back.
        guard state.withLock({ state in
            guard !state.closed else { return false }
            state.held[job.id]?.started = true
            return true
        }) else { return dropped(job.id, runtime: nil) }
        if writtenDown, !(await confirm(job)) { return dropped(job.id, runtime: runtime) }
        do {
            let persona = try await runtime.persona(job.persona)
            let formation = MemoryFormation(persona: persona, runtime: runtime)
            // The conversation's own model reads the facts; a resumed job takes the runtime's.
            let backend = try? await conversation?.backend(for: persona)
            var written: [TurnRecord.Written] = []
            for part in job.said {
                written += try await formation.form(part, conversation: job.conversation, turn: job.turn, backend: backend)
            }
            await conversation?.formed(written, turn: job.turn)
            logger.debug("formed memory for turn \(job.turn) of \(job.conversation) (job \(job.id), \(written.count) changes)")
            if writtenDown { await finish(job) }
        } catch {
            await postpone(job, writtenDown: writtenDown, after: error)
        }
        dropped(job.id, runtime: runtime)
    }

    /// Removes the job from the store: done.
    private func finish(_ job: FormationJob) async {
        do {
            if try await !store.finishFormation(job.id, owner: owner) {
                logger.warning("memory formation for turn \(job.turn) of \(job.conversation) was taken over by another process while it was formed here; it may be formed twice, which changes nothing the second time")
            }
        } catch {
            logger.warning("memory formation for turn \(job.turn) of \(job.conversation) is done but could not be marked so (\(error)); it may be formed again, which changes nothing")
        }
    }

    /// Leaves a failed job queued, held by nobody else until a wait that doubles with each
    /// attempt (one term first, at most 64).
    private func postpone(_ job: FormationJob, writtenDown: Bool, after error: any Error) async {
        let wait = lease.term * Double(1 << min(max(job.attempts - 1, 0), 6))
        guard writtenDown else {
            return logger.warning("memory formation for turn \(job.turn) of \(job.conversation) failed: \(error); it was not written down and is lost")
        }
        _ = try? await store.renewFormations([job.id], owner: owner, until: clock.now().addingTimeInterval(wait))
        logger.warning("memory formation for turn \(job.turn) of \(job.conversation) failed: \(error); it stays queued and is tried again in \(DurationText.format(wait))")
    }

    /// Forgets a job this process no longer holds; with `runtime`, claims more once the backlog is done.
    private func dropped(_ id: String, runtime: Runtime?) {
        let more = state.withLock { state in
            state.held[id] = nil
            return state.resuming && state.held.isEmpty && !state.closed
        }
        if more, let runtime {
            // In a task of its own: this one is the chain's last, which the new jobs wait for.
            Task { await self.claim(runtime: runtime) }
        }
    }

    private static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "host" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Runtime {
    /// Forms the memories of turns left queued: by an earlier process of this home that ended
    /// before they were done, or by any process of the store whose lease on them has run out.
    /// A long-lived owner calls it when it starts; its ``run()`` then looks again now and then.
    public func resumeFormation() async { await formation.resume(runtime: self) }
}
