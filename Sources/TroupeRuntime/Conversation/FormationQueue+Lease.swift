import Foundation
import TroupeCore
import TroupeStore

extension FormationQueue {
    /// Claims free jobs of the personas this runtime knows (another process may serve others)
    /// and starts them after this process's own.
    func claim(runtime: Runtime) async {
        guard !state.withLock({ $0.closed }) else { return }
        let now = clock.now()
        let claimed: [QueuedFormation]
        do {
            claimed = try await store.claimFormations(
                owner: owner, personas: runtime.personas.map(\.name.rawValue), at: now, until: now.addingTimeInterval(lease.term),
                limit: lease.batch)
        } catch {
            return logger.warning("queued memory formation cannot be taken on now (\(error)); it is tried again later")
        }
        for queued in claimed {
            guard let job = FormationJob(queued) else {
                // Held by nobody else for a day: it is there to be looked at, not retried.
                _ = try? await store.renewFormations([queued.id], owner: owner, until: now.addingTimeInterval(86_400))
                logger.warning("queued memory formation \(queued.id) cannot be read (what was said is not as this version writes it); it is left queued")
                continue
            }
            // One of this process's own whose lease lapsed and came back to it is under way already.
            guard state.withLock({ $0.held[job.id] == nil }) else { continue }
            start(job, writtenDown: true, runtime: runtime, conversation: nil)
        }
    }

    /// Whether the job, about to start, is still this process's: its lease is renewed, unless
    /// another claimant took it over after it lapsed. A store that cannot be reached does not
    /// stop the job (its writes fail, or land, on their own).
    func confirm(_ job: FormationJob) async -> Bool {
        do {
            guard try await store.renewFormations([job.id], owner: owner, until: clock.now().addingTimeInterval(lease.term)).contains(job.id) else {
                logger.debug("memory formation for turn \(job.turn) of \(job.conversation) was taken over by another process; it is left to it")
                return false
            }
        } catch {
            logger.warning("the lease of memory formation for turn \(job.turn) of \(job.conversation) cannot be renewed (\(error)); it is formed anyway")
        }
        return true
    }

    /// Renews the leases of every job held here, every third of a term, while there are any;
    /// ends when none is left (``start(_:writtenDown:runtime:conversation:)`` starts it again)
    /// or when cancelled by ``close()``.
    func keepLeases() async {
        while true {
            let slept: Void? = try? await Task.sleep(for: lease.renewal)
            let ids = state.withLock { state -> [String]? in
                let ids = state.held.filter { $0.value.writtenDown }.map(\.key)
                guard slept != nil, !state.closed, !ids.isEmpty else {
                    state.keeper = nil
                    return nil
                }
                return ids
            }
            guard let ids else { return }
            do {
                let kept = try await store.renewFormations(ids, owner: owner, until: clock.now().addingTimeInterval(lease.term))
                // A job not kept is skipped when its turn comes (``confirm(_:)``); one forming now
                // goes on, and its holder's `finish` finds it gone.
                if kept.count < ids.count {
                    logger.warning("\(ids.count - kept.count) memory formation jobs held here were taken over by another process after their lease lapsed")
                }
            } catch {
                logger.warning("the leases of memory formation held here cannot be renewed (\(error)); they are tried again in \(DurationText.format(lease.term / 3))")
            }
        }
    }
}
