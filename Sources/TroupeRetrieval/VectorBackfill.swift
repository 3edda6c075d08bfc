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
    let embedder: any Embedder
    let batchSize: Int

    public init(store: any IndexSource, embedder: any Embedder, batchSize: Int = 128) {
        self.store = store
        self.embedder = embedder
        self.batchSize = max(1, batchSize)
    }

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
            let vectors = try embedder.embed(batch.map(\.content))
            done += try await store.storeVectors(zip(batch, vectors).map {
                RecordVector(id: $0.id, version: $0.version, model: embedder.modelID, values: $1)
            })
            after = last.id
            progress?(Progress(done: done, total: total, elapsed: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
        }
        return done
    }
}
