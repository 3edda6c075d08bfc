import Foundation
import TroupeCore

/// The queue of memory formation jobs: the work a turn leaves for after its reply (reading what
/// was said for facts), kept in the store so that it outlives the process that wrote it and is
/// shared by every process of the store (several machines, on PostgreSQL).
///
/// **Claims.** A job is held by one claimant at a time, until its lease ends: ``claimFormations(owner:personas:at:until:limit:)``
/// hands out free jobs and jobs whose lease has ended, and two claimants, in one process or
/// two, never get the same job from it. A holder keeps its jobs by renewing their leases; one
/// that died lets them lapse, and the next claimant takes them over. Leases are compared with
/// the times callers pass (their clocks), so the processes of one store must agree on the time
/// to well within a lease.
///
/// Every method that writes returns only after its transaction commits: a job written down
/// survives a crash of the process, or of the machine when the store syncs its commits.
public protocol FormationQueueStore: Sendable {
    /// Writes `job` down, held as it says (its enqueuer forms it next) or free for any
    /// claimant. `false`, and nothing changes, when a job with its id is queued already.
    func enqueueFormation(_ job: QueuedFormation) async throws -> Bool

    /// Takes up to `limit` jobs of `personas`, oldest first, that nobody holds or whose lease
    /// ended at or before `time`: each is then held by `owner` until `until`, one more attempt
    /// counted. In one transaction; the jobs as they now are, oldest first.
    func claimFormations(owner: String, personas: [String], at time: Date, until: Date, limit: Int) async throws -> [QueuedFormation]

    /// Moves the leases of the jobs among `ids` that `owner` still holds to `until` (a lease that
    /// lapsed but that nobody took is still the owner's); the ids it still holds.
    func renewFormations(_ ids: [String], owner: String, until: Date) async throws -> Set<String>

    /// Removes a job done by `owner`; `false` when `owner` no longer holds it (another claimant
    /// took it over and will finish it) or it is gone.
    func finishFormation(_ id: String, owner: String) async throws -> Bool

    /// Hands back the jobs among `ids` that `owner` holds: free for any claimant at once.
    /// Returns how many.
    func releaseFormations(_ ids: [String], owner: String) async throws -> Int

    /// Every job not done, oldest first, with who holds it.
    func pendingFormations() async throws -> [QueuedFormation]

    /// Removes every job of `persona`, held or not (its memory is being destroyed); returns how
    /// many. A claimant holding one finds it gone when it finishes.
    func dropFormations(persona: String) async throws -> Int
}

/// A memory formation job as the store keeps it. What was said is the runtime's JSON, kept
/// sealed by the store's sealer like any other words a person wrote; the store never
/// reads inside it.
public struct QueuedFormation: Sendable, Hashable {
    public var id: String
    public var persona: String
    public var conversation: String
    public var turn: Int
    /// What was said, as JSON.
    public var said: String
    public var enqueuedAt: Date
    /// Who holds the job, and until when; `nil` when it is free.
    public var holder: String?
    public var leaseUntil: Date?
    /// How many times it was claimed (a job that keeps failing waits longer each time).
    public var attempts: Int

    public init(
        id: String, persona: String, conversation: String, turn: Int, said: String, enqueuedAt: Date, holder: String? = nil,
        leaseUntil: Date? = nil, attempts: Int = 0
    ) {
        (self.id, self.persona, self.conversation, self.turn, self.said) = (id, persona, conversation, turn, said)
        (self.enqueuedAt, self.holder, self.leaseUntil, self.attempts) = (enqueuedAt, holder, leaseUntil, attempts)
    }

    /// Whether `time` finds the job free to claim: nobody holds it, or the lease has ended.
    public func isFree(at time: Date) -> Bool {
        guard holder != nil, let leaseUntil else { return true }
        return leaseUntil <= time
    }
}
