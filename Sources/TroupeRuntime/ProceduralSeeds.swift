import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// Loading personas' procedural seeds (rules and skills from their YAML) into memory.
enum ProceduralSeeds {
    /// Writes the seeds of `personas` that are not in the store yet, with their vectors.
    /// Idempotent: seeds have stable ids, so a second call reads and writes nothing new.
    /// Returns how many were written. `embedder` is asked for only when there is something to
    /// embed (loading a model costs more than checking that the seeds are there).
    static func load(
        _ personas: [PersonaDefinition], store: any MemoryStore, embedder: () throws -> (any Embedder)?, at now: Date
    ) async throws -> Int {
        var seeds: [MemoryRecord] = []
        for persona in personas {
            for seed in persona.procedural {
                seeds.append(MemoryRecord(
                    id: persona.seedID(seed), owner: persona.name, slice: .procedural, content: seed.text,
                    importance: seed.importance, tags: [seed.kind.rawValue] + seed.tags, source: "seed", createdAt: now))
            }
        }
        guard !seeds.isEmpty else { return 0 }
        let present = Set(try await store.records(ids: seeds.map(\.id)).map(\.id))
        let missing = seeds.filter { !present.contains($0.id) }
        guard !missing.isEmpty else { return 0 }
        let inserted = try await store.upsert(missing, writer: "seed", at: now).inserted
        if let embedder = try embedder() {
            let vectors = try embedder.embed(missing.map(\.content))
            _ = try await store.storeVectors(zip(missing, vectors).map {
                RecordVector(id: $0.id, version: $0.version, model: embedder.modelID, values: $1)
            })
        }
        return inserted
    }
}
