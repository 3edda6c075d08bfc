import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeStore

/// A seeded random interleaving of eight personas' reads, writes and forgets on private and
/// shared slices, each checked against a small model of what should happen. The same seed gives
/// the same run, so a failure can be replayed.
@Suite("Interleavings against a model")
struct InterleavingModelTests {
    struct Entry: Equatable {
        var owner: PersonaID
        var version: Int
        var content: String
        var source: String
    }

    /// What the runtime should hold and answer.
    struct Model {
        var records: [String: Entry] = [:] {
            didSet { for id in records.keys where !order.contains(id) { order.append(id) } }
        }
        var forgotten: Set<String> = []
        /// Every id ever created, in creation order: ids are random, so picking among sorted ids
        /// would make the run depend on them.
        private(set) var order: [String] = []
        var audits = 0
        let team: Team
        let members: [PersonaID: Set<PersonaID>]
        let policies: [PersonaID: ConflictPolicy]

        init(team: Team) {
            self.team = team
            var members = Dictionary(uniqueKeysWithValues: Team.slices.map { ($0.0, Set(Team.names)) })
            members["inner"] = ["p0", "p1"]
            self.members = members
            policies = Dictionary(uniqueKeysWithValues: Team.slices.map { ($0.0, $0.1) } + [("inner", .lastWriterWins)])
        }

        /// How a persona's access to record `id` must turn out, before any policy.
        enum Access { case missing, denied, own, shared(ConflictPolicy) }

        func access(_ persona: PersonaID, _ id: String) -> Access {
            guard let entry = records[id] else { return .missing }
            if entry.owner == persona { return .own }
            guard let members = members[entry.owner], members.contains(persona) else { return .denied }
            return .shared(policies[entry.owner]!)
        }
    }

    enum Expected: Equatable {
        case ok
        case failure(TroupeError.Code)
    }

    func outcome(_ body: () async throws -> Void) async -> Expected {
        do {
            try await body()
            return .ok
        } catch let error as TroupeError {
            return .failure(error.code)
        } catch {
            return .failure(.storage)
        }
    }

    @Test(arguments: [UInt64(0x5EED), 42])
    func randomInterleavingMatchesTheModel(seed: UInt64) async throws {
        let team = try await Team()
        var model = Model(team: team)
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        let slices: [PersonaID] = Team.slices.map(\.0) + ["inner"]

        for step in 0..<600 {
            let name = pick(Team.names)
            let persona = try await team.persona(name)
            let known = model.order
            let content = "\(name) note \(step) about \(pick(["storage", "latency", "release", "review", "budget"]))"
            let context = "seed \(seed) step \(step): \(name)"
            switch rng.next() % 6 {
            case 0:
                let slice = pick(SliceKind.allCases)
                let record = try await persona.remember(content, in: slice)
                model.records[record.id] = Entry(owner: name, version: 1, content: content, source: name.rawValue)
            case 1:
                let slice = pick(slices)
                var created: SharedWriteOutcome?
                let got = await outcome { created = try await persona.share(content, in: slice) }
                let member = model.members[slice]!.contains(name)
                #expect(got == (member ? .ok : .failure(.denied)), "\(context) shares to \(slice)")
                if let created {
                    model.records[created.current.id] = Entry(owner: slice, version: 1, content: content, source: name.rawValue)
                }
            case 2 where !known.isEmpty:
                let id = pick(known)
                let current = model.records[id]?.version ?? 1
                let stale = current > 1 && rng.next() % 10 < 3
                let base = stale ? 1 + Int(rng.next() % UInt64(current - 1)) : current
                var result: SharedWriteOutcome?
                let got = await outcome { result = try await persona.update(id, basedOn: base, change: MemoryChange(content: content)) }
                switch model.access(name, id) {
                case .missing: #expect(got == .failure(.denied), "\(context) updates forgotten \(id)")  // as for a record out of reach
                case .denied: #expect(got == .failure(.denied), "\(context) updates \(id)")
                case .own:
                    #expect(got == (stale ? .failure(.conflict) : .ok), "\(context) updates its own \(id)")
                    if !stale { model.records[id] = Entry(owner: name, version: current + 1, content: content, source: name.rawValue) }
                case .shared(let policy):
                    var entry = model.records[id]!
                    guard stale else {
                        #expect(got == .ok && result?.kind == .applied, "\(context) updates \(id)")
                        entry.version += 1
                        entry.content = content
                        entry.source = name.rawValue
                        model.records[id] = entry
                        break
                    }
                    model.audits += 1
                    let decision = policy.decide(writerPriority: team.priority(of: name.rawValue), currentPriority: team.priority(of: entry.source))
                    switch decision {
                    case .reject:
                        #expect(got == .failure(.conflict), "\(context) stale write to \(id)")
                    case .keepCurrent:
                        #expect(result?.kind == .keptCurrent, "\(context) stale write to \(id)")
                    case .overwrite:
                        #expect(result?.kind == .overwrote, "\(context) stale write to \(id)")
                        entry.version += 1
                        entry.content = content
                        entry.source = name.rawValue
                        model.records[id] = entry
                    case .keepBoth:
                        #expect(result?.kind == .keptBoth, "\(context) stale write to \(id)")
                        if let sibling = result?.sibling {
                            model.records[sibling.id] = Entry(owner: entry.owner, version: 1, content: content, source: name.rawValue)
                        }
                    }
                }
            case 3 where !known.isEmpty:
                let id = pick(known)
                let got = await outcome { _ = try await persona.forget(id) }
                switch model.access(name, id) {
                case .missing: #expect(got == .failure(.denied), "\(context) forgets \(id)")  // as for a record out of reach
                case .denied: #expect(got == .failure(.denied), "\(context) forgets \(id)")
                case .own, .shared:
                    #expect(got == .ok, "\(context) forgets \(id)")
                    model.records[id] = nil
                    model.forgotten.insert(id)
                }
            case 4 where !known.isEmpty:
                let id = pick(known)
                var read: MemoryRecord?
                let got = await outcome { read = try await persona.record(id) }
                switch model.access(name, id) {
                case .missing: #expect(got == .failure(.denied), "\(context) reads \(id)")  // as for a record out of reach
                case .denied: #expect(got == .failure(.denied), "\(context) reads \(id)")
                case .own, .shared:
                    let entry = model.records[id]!
                    #expect(read.map { Entry(owner: $0.owner, version: $0.version, content: $0.content, source: $0.source) } == entry, "\(context) reads \(id)")
                }
            default:
                let hits = try await persona.recall(pick(["storage", "latency release", "review budget", "note"]), limit: 20)
                #expect(hits.allSatisfy { persona.readableOwners.contains($0.record.owner) }, "\(context) recalls")
            }
        }

        // The store holds exactly the model's records (seeds aside), and one audit line per
        // stale shared write.
        let stored = try await team.store.query(MemoryQuery()).filter { $0.source != "seed" }
        #expect(Set(stored.map(\.id)) == Set(model.records.keys))
        for record in stored {
            #expect(Entry(owner: record.owner, version: record.version, content: record.content, source: record.source) == model.records[record.id])
        }
        #expect(try await team.store.audit(AuditQuery()).count == model.audits)
        #expect(model.audits > 0 && !model.forgotten.isEmpty)
    }
}
