import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

extension SessionRun {
    /// What seeding did with one of the file's memories.
    struct SeedOutcome {
        var seed: SessionDefinition.Seed
        /// The record written, or the one already held.
        var id: String
        var skipped: Bool
    }

    /// Writes the file's memories, each unless its owner already holds it (the same text, current,
    /// in the same slice): two sessions that seed one team decision leave it once.
    func plantSeeds() async throws -> [SeedOutcome] {
        let seeds = definition.seeds
        let runtime = runtime
        var outcomes: [SeedOutcome] = []
        try await SessionIDs.$scope.withValue("seed") {
            for seed in seeds {
                let held = try await runtime.store.query(MemoryQuery(owners: [seed.owner], slices: [seed.slice]))
                    .first { $0.content.trimmingCharacters(in: .whitespacesAndNewlines) == seed.content.trimmingCharacters(in: .whitespacesAndNewlines) }
                if let held {
                    outcomes.append(SeedOutcome(seed: seed, id: held.id, skipped: true))
                    continue
                }
                let id: String
                if let writer = seed.by {
                    id = try await runtime.persona(writer.rawValue).share(seed.content, in: seed.owner, importance: seed.importance, tags: seed.tags)
                        .current.id
                } else {
                    id = try await runtime.persona(seed.owner.rawValue).remember(seed.content, in: seed.slice, importance: seed.importance, tags: seed.tags)
                        .id
                }
                outcomes.append(SeedOutcome(seed: seed, id: id, skipped: false))
            }
        }
        for outcome in outcomes where outcome.skipped {
            runner.options.progress(
                "seed: \(outcome.seed.owner)/\(outcome.seed.slice.rawValue) holds this memory already (\(outcome.id)); not written again")
        }
        return outcomes
    }

    /// The log's first line: the file, the run's id, its clock and start, and what seeding did.
    func header(seeds: [SeedOutcome]) -> JSONValue {
        let run = (runtime.ids as? SessionIDs)?.run ?? ""
        return .object([
            "kind": .string("session"), "title": .string(definition.title), "file": .string(definition.file),
            "seed": .number(Double(definition.seed)), "run": .string(run), "clock": .string(clock.mode.rawValue),
            "start": .string(Timestamp.format(clock.start)),
            "personas": .array(definition.personas.map { .string($0.rawValue) }),
            "seeds": .array(seeds.map { o in
                .object([
                    "owner": .string(o.seed.owner.rawValue), "slice": .string(o.seed.slice.rawValue), "id": .string(o.id),
                    "outcome": .string(o.skipped ? "skipped: held already" : "written"),
                ])
            }),
        ])
    }
}
