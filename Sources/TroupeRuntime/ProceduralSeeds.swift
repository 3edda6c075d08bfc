import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

/// Loading personas' procedural seeds (rules and skills from their YAML) into memory.
enum ProceduralSeeds {
    /// Writes the seeds of `personas` that are not in the store yet, with their vectors, through
    /// the write path. Idempotent: seeds have stable ids, so a second call reads and writes
    /// nothing new (and loads no model). Returns how many were written.
    static func load(_ personas: [PersonaDefinition], through writes: MemoryWrites) async throws -> Int {
        let now = writes.clock.now()
        var seeds: [MemoryRecord] = []
        for persona in personas {
            for seed in persona.procedural {
                seeds.append(MemoryRecord(
                    id: persona.seedID(seed), owner: persona.name, slice: .procedural, content: seed.text,
                    importance: seed.importance, tags: [seed.kind.rawValue] + seed.tags, source: "seed", createdAt: now))
            }
        }
        guard !seeds.isEmpty else { return 0 }
        let present = Set(try await writes.store.records(ids: seeds.map(\.id)).map(\.id))
        let missing = seeds.filter { !present.contains($0.id) }
        guard !missing.isEmpty else { return 0 }
        return try await writes.upsert(missing, writer: "seed").inserted
    }
}
