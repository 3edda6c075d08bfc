import Foundation
import Testing
import TroupeCore
import TroupeStore

/// The formation queue (``FormationQueueStore``), the same on every store: jobs in the order
/// written, claims that two claimants never share, leases that lapse, and only a holder
/// finishing, renewing or handing back its jobs.
public enum FormationQueueConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("enqueuedJobsArePendingInOrderWithEveryField", enqueuedJobsArePendingInOrderWithEveryField),
        ConformanceCheck("aClaimTakesFreeJobsInOrderAndLeasesThem", aClaimTakesFreeJobsInOrderAndLeasesThem),
        ConformanceCheck("aLapsedLeaseIsTakenOverAndItsHolderLosesTheJob", aLapsedLeaseIsTakenOverAndItsHolderLosesTheJob),
        ConformanceCheck("releasedJobsAreFreeAtOnce", releasedJobsAreFreeAtOnce),
        ConformanceCheck("claimantsAtOnceNeverShareAJob", claimantsAtOnceNeverShareAJob),
        ConformanceCheck("droppingAPersonasJobsLeavesTheOthers", droppingAPersonasJobsLeavesTheOthers),
    ]

    /// A shredded persona's jobs go, held or not; its holder then finds its job gone.
    static func droppingAPersonasJobsLeavesTheOthers(_ store: any MemoryStore) async throws {
        let jobs = [job("a1"), job("a2", holder: "p1", at: 1), job("h1", "hestia", at: 2)]
        for job in jobs { _ = try await store.enqueueFormation(job) }
        #expect(try await store.dropFormations(persona: "athena") == 2)
        #expect(try await store.pendingFormations() == [jobs[2]])
        #expect(try await !store.finishFormation("a2", owner: "p1"))
        #expect(try await store.dropFormations(persona: "athena") == 0)
    }

    /// A job of `persona`, said at `t0 + offset`, free unless `holder` is given (leased for a minute).
    public static func job(_ id: String, _ persona: String = "athena", holder: String? = nil, at offset: TimeInterval = 0) -> QueuedFormation {
        QueuedFormation(
            id: id, persona: persona, conversation: "c-\(id)", turn: 3,
            said: #"[{"source":"person","speaker":"user","text":"Ana lives in Porto \#(id) ✓"}]"#,
            enqueuedAt: t0.addingTimeInterval(offset), holder: holder, leaseUntil: holder.map { _ in t0.addingTimeInterval(offset + 60) },
            attempts: holder == nil ? 0 : 1)
    }

    static func enqueuedJobsArePendingInOrderWithEveryField(_ store: any MemoryStore) async throws {
        let jobs = [job("j2"), job("j1", holder: "p1", at: 1), job("j3", "hestia", at: 2)]
        for job in jobs { #expect(try await store.enqueueFormation(job)) }
        // The order written, not the ids' order.
        #expect(try await store.pendingFormations() == jobs)
        // An id queued already: nothing changes.
        var again = job("j1", "hestia")
        again.said = "[]"
        #expect(try await !store.enqueueFormation(again))
        #expect(try await store.pendingFormations() == jobs)
    }

    static func aClaimTakesFreeJobsInOrderAndLeasesThem(_ store: any MemoryStore) async throws {
        for (i, id) in ["a", "b", "c", "d"].enumerated() { _ = try await store.enqueueFormation(job(id, at: Double(i))) }
        _ = try await store.enqueueFormation(job("held", holder: "p0", at: 4))
        _ = try await store.enqueueFormation(job("hestias", "hestia", at: 5))
        let until = t0.addingTimeInterval(100)
        let first = try await store.claimFormations(owner: "p1", personas: ["athena"], at: t0.addingTimeInterval(10), until: until, limit: 2)
        #expect(first.map(\.id) == ["a", "b"])
        #expect(first.allSatisfy { $0.holder == "p1" && $0.leaseUntil == until && $0.attempts == 1 && $0.said == job($0.id).said })
        // The rest of athena's free jobs; not one held by another whose lease holds, nor another persona's.
        let second = try await store.claimFormations(owner: "p2", personas: ["athena"], at: t0.addingTimeInterval(10), until: until, limit: 10)
        #expect(second.map(\.id) == ["c", "d"])
        #expect(try await store.claimFormations(owner: "p3", personas: ["athena"], at: t0.addingTimeInterval(10), until: until, limit: 10).isEmpty)
        #expect(try await store.claimFormations(owner: "p3", personas: [], at: t0.addingTimeInterval(10), until: until, limit: 10).isEmpty)
        let pending = try await store.pendingFormations()
        #expect(pending.map(\.id) == ["a", "b", "c", "d", "held", "hestias"])
        #expect(pending.map { $0.holder ?? "-" } == ["p1", "p1", "p2", "p2", "p0", "-"])
        // Renewing and finishing are the holder's alone.
        #expect(try await store.renewFormations(["a", "c", "gone"], owner: "p1", until: until.addingTimeInterval(60)) == ["a"])
        #expect(try await store.pendingFormations().first?.leaseUntil == until.addingTimeInterval(60))
        #expect(try await !store.finishFormation("a", owner: "p2"))
        #expect(try await store.finishFormation("a", owner: "p1"))
        #expect(try await !store.finishFormation("a", owner: "p1"))
        #expect(try await store.pendingFormations().map(\.id) == ["b", "c", "d", "held", "hestias"])
    }

    static func aLapsedLeaseIsTakenOverAndItsHolderLosesTheJob(_ store: any MemoryStore) async throws {
        _ = try await store.enqueueFormation(job("a", holder: "dead"))  // leased until t0 + 60
        let claim = { (owner: String, at: TimeInterval) in
            try await store.claimFormations(owner: owner, personas: ["athena"], at: t0.addingTimeInterval(at), until: t0.addingTimeInterval(at + 60), limit: 5)
        }
        #expect(try await claim("p1", 59.999).isEmpty)
        let taken = try await claim("p1", 60)
        #expect(taken.map(\.id) == ["a"] && taken.first?.attempts == 2 && taken.first?.leaseUntil == t0.addingTimeInterval(120))
        // The old holder's renewal, finish and hand-back find it gone.
        #expect(try await store.renewFormations(["a"], owner: "dead", until: t0.addingTimeInterval(500)).isEmpty)
        #expect(try await !store.finishFormation("a", owner: "dead"))
        #expect(try await store.releaseFormations(["a"], owner: "dead") == 0)
        #expect(try await store.pendingFormations().first?.holder == "p1")
        // A lease that lapsed with nobody taking over is still its holder's to renew.
        #expect(try await store.renewFormations(["a"], owner: "p1", until: t0.addingTimeInterval(900)) == ["a"])
    }

    static func releasedJobsAreFreeAtOnce(_ store: any MemoryStore) async throws {
        for id in ["a", "b"] { _ = try await store.enqueueFormation(job(id, holder: "p1")) }
        #expect(try await store.releaseFormations(["a", "b", "c"], owner: "p2") == 0)
        #expect(try await store.releaseFormations(["a"], owner: "p1") == 1)
        let pending = try await store.pendingFormations()
        #expect(pending.map { $0.holder ?? "-" } == ["-", "p1"] && pending[0].leaseUntil == nil)
        let taken = try await store.claimFormations(owner: "p2", personas: ["athena"], at: t0, until: t0.addingTimeInterval(60), limit: 5)
        #expect(taken.map(\.id) == ["a"])
    }

    /// Eight claimants take 60 jobs a few at a time, all at once: each job goes to exactly one.
    static func claimantsAtOnceNeverShareAJob(_ store: any MemoryStore) async throws {
        let ids = (0..<60).map { String(format: "j%02d", $0) }
        for (i, id) in ids.enumerated() { _ = try await store.enqueueFormation(job(id, at: Double(i))) }
        let taken = try await withThrowingTaskGroup(of: [String].self) { group in
            for claimant in 0..<8 {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let batch = try await store.claimFormations(
                            owner: "p\(claimant)", personas: ["athena"], at: t0.addingTimeInterval(100), until: t0.addingTimeInterval(200), limit: 3)
                        if batch.isEmpty { return mine }
                        #expect(batch.allSatisfy { $0.holder == "p\(claimant)" && $0.attempts == 1 })
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(taken.count == ids.count && Set(taken) == Set(ids), "\(taken.count) claims of \(Set(taken).count) jobs")
    }
}
