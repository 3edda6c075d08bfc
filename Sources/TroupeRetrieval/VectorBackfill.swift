import Foundation
import TroupeStore

/// Embeds every current record that lacks a vector of the embedder's model, batch by batch.
///
/// Each batch is stored in its own transaction and only for the version that was embedded, so an
/// interrupted run loses nothing and a second run picks up where the first stopped; a record
/// changed meanwhile is simply embedded again on the next run.
public struct VectorBackfill: Sendable {
    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
        public var elapsed: Double
    }

    let store: any IndexSource
    let embedding: EmbeddingQueue
    let batchSize: Int
    /// Told of each batch of vectors stored (the runtime's index and hot tier follow).
    let stored: @Sendable ([RecordVector]) async -> Void

    public init(store: any IndexSource, embedder: any Embedder, batchSize: Int = 128) {
        self.init(store: store, embedding: EmbeddingQueue(embedder), batchSize: batchSize)
    }

    public init(
        store: any IndexSource, embedding: EmbeddingQueue, batchSize: Int = 128,
        stored: @escaping @Sendable ([RecordVector]) async -> Void = { _ in }
    ) {
        self.store = store
        self.embedding = embedding
        self.batchSize = max(1, batchSize)
        self.stored = stored
    }

    var embedder: any Embedder { embedding.embedder }

    /// Records still without a vector of the model.
    public func remaining() async throws -> Int { try await store.countWithoutVector(model: embedder.modelID) }

    /// Embeds what is missing; returns how many vectors were stored.
    @discardableResult
    public func run(progress: (@Sendable (Progress) -> Void)? = nil) async throws -> Int {
        let start = DispatchTime.now()
        let total = try await remaining()
        var done = 0
        var after: String?
        while true {
            let batch = try await store.entriesWithoutVector(model: embedder.modelID, after: after, limit: batchSize)
            guard let last = batch.last else { break }
            let vectors = try await embedding.embed(batch.map(\.content))
            let records = zip(batch, vectors).map {
                RecordVector(id: $0.id, version: $0.version, model: embedding.modelID, values: $1)
            }
            done += try await store.storeVectors(records)
            await stored(records)
            after = last.id
            progress?(Progress(done: done, total: total, elapsed: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
        }
        return done
    }
}
