import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// An embedder that fails after a number of batches: an interrupted backfill.
struct FailingEmbedder: Embedder {
    let inner = HashingEmbedder()
    let modelID = "hashing-384-v1"
    let dimension = 384
    let failAfter: Int
    let calls: Counter

    final class Counter: @unchecked Sendable {
        // Safe: only touched from the test's single task.
        var value = 0
    }

    func embed(_ texts: [String]) throws -> [[Float]] {
        calls.value += 1
        if calls.value > failAfter { throw TroupeError(.unavailable, "interrupted") }
        return inner.embed(texts)
    }
}

@Suite("Vector backfill")
struct VectorBackfillTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func resumesAfterAnInterruptionAndLosesNothing() async throws {
        let store = InMemoryStore()
        for i in 0..<250 {
            try await store.put(MemoryRecord(id: String(format: "r%03d", i), owner: "athena", slice: .episodic, content: "memory \(i)", source: "t", createdAt: t0))
        }
        let interrupted = VectorBackfill(store: store, embedder: FailingEmbedder(failAfter: 1, calls: .init()), batchSize: 100)
        await #expect(throws: TroupeError.self) { try await interrupted.run() }
        // The first batch was committed before the failure.
        #expect(await store.countWithoutVector(model: "hashing-384-v1") == 150)

        let resumed = VectorBackfill(store: store, embedder: HashingEmbedder(), batchSize: 100)
        #expect(try await resumed.run() == 150)
        #expect(try await resumed.remaining() == 0)
        #expect(try await resumed.run() == 0)
    }

    @Test func aModelChangeReembedsEverythingAndNeverMixes() async throws {
        let store = InMemoryStore()
        for i in 0..<20 {
            try await store.put(MemoryRecord(id: "r\(i)", owner: "athena", slice: .semantic, content: "note \(i)", source: "t", createdAt: t0))
        }
        _ = try await VectorBackfill(store: store, embedder: HashingEmbedder()).run()
        // A record with a vector of the old model only is invisible to an index of the new one.
        let newModel = RenamedEmbedder(modelID: "other-model")
        #expect(await store.countWithoutVector(model: newModel.modelID) == 20)
        let index = RecallIndex(source: store, model: newModel.modelID, dimension: 384)
        let before = try await index.search([IndexQuery(terms: [], vector: newModel.embed(["note 3"])[0], owners: ["athena"], slices: nil, candidates: 5)])
        #expect(before[0].isEmpty)
        #expect(try await VectorBackfill(store: store, embedder: newModel).run() == 20)
        let after = try await index.search([IndexQuery(terms: [], vector: newModel.embed(["note 3"])[0], owners: ["athena"], slices: nil, candidates: 5)])
        #expect(after[0].first?.id == "r3")
    }
}

/// The hashing embedder under another model id, to stand for a model change.
struct RenamedEmbedder: Embedder {
    let modelID: String
    let dimension = 384
    func embed(_ texts: [String]) -> [[Float]] { HashingEmbedder().embed(texts) }
}
