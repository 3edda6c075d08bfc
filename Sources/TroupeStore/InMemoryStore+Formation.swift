import Foundation
import TroupeCore

extension InMemoryStore: FormationQueueStore {
    public func enqueueFormation(_ job: QueuedFormation) -> Bool {
        guard !formations.contains(where: { $0.id == job.id }) else { return false }
        formations.append(job)
        return true
    }

    public func claimFormations(owner: String, personas: [String], at time: Date, until: Date, limit: Int) -> [QueuedFormation] {
        var claimed: [QueuedFormation] = []
        for i in formations.indices where claimed.count < limit && personas.contains(formations[i].persona) && formations[i].isFree(at: time) {
            formations[i].holder = owner
            formations[i].leaseUntil = until
            formations[i].attempts += 1
            claimed.append(formations[i])
        }
        return claimed
    }

    public func renewFormations(_ ids: [String], owner: String, until: Date) -> Set<String> {
        let asked = Set(ids)
        var held: Set<String> = []
        for i in formations.indices where asked.contains(formations[i].id) && formations[i].holder == owner {
            formations[i].leaseUntil = until
            held.insert(formations[i].id)
        }
        return held
    }

    public func finishFormation(_ id: String, owner: String) -> Bool {
        guard let i = formations.firstIndex(where: { $0.id == id && $0.holder == owner }) else { return false }
        formations.remove(at: i)
        return true
    }

    public func releaseFormations(_ ids: [String], owner: String) -> Int {
        let asked = Set(ids)
        var released = 0
        for i in formations.indices where asked.contains(formations[i].id) && formations[i].holder == owner {
            (formations[i].holder, formations[i].leaseUntil) = (nil, nil)
            released += 1
        }
        return released
    }

    public func pendingFormations() -> [QueuedFormation] { formations }

    public func dropFormations(persona: String) -> Int {
        let before = formations.count
        formations.removeAll { $0.persona == persona }
        return before - formations.count
    }
}
