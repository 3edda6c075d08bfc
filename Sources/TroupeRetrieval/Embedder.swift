import Foundation

/// Turns texts into unit vectors; a recall scores only vectors of the same `modelID` together.
public protocol Embedder: Sendable {
    /// Recorded with every stored vector.
    var modelID: String { get }
    var dimension: Int { get }
    /// One L2-normalised vector per text, in order.
    func embed(_ texts: [String]) throws -> [[Float]]
}

/// An embedder behind a thread of its own: `embed` suspends the caller instead of running the
/// model on a thread of Swift's cooperative pool, so an actor awaiting an embedding (a persona
/// writing, a recall) blocks no other actor meanwhile. Requests run one at a time, in order.
public final class EmbeddingQueue: Sendable {
    public let embedder: any Embedder
    private let queue: DispatchQueue

    public init(_ embedder: any Embedder) {
        self.embedder = embedder
        queue = DispatchQueue(label: "troupe.embedding", qos: .userInitiated)
    }

    public var modelID: String { embedder.modelID }
    public var dimension: Int { embedder.dimension }

    /// One L2-normalised vector per text, in order.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let embedder = embedder
        return try await withCheckedThrowingContinuation { reply in
            queue.async { reply.resume(with: Result { try embedder.embed(texts) }) }
        }
    }
}
