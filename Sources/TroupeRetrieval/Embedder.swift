import Foundation
import TroupeCore

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
///
/// Small requests also go through a cache of recently embedded texts: a conversation turn
/// embeds its message to recall with, then again to store it, and memory formation recalls
/// with a fact before it writes the same fact. The encoder is deterministic per text, so a
/// cached vector is the one the model would give again.
public final class EmbeddingQueue: Sendable {
    public let embedder: any Embedder
    private let queue: DispatchQueue
    private let recent: LockedBox<RecentVectors>

    /// Requests of at most this many texts are cached (bulk imports and backfills are not:
    /// they would only push the turn-sized entries out).
    static let cachedRequestSize = 16

    public init(_ embedder: any Embedder, cacheCapacity: Int = 512) {
        self.embedder = embedder
        queue = DispatchQueue(label: "troupe.embedding", qos: .userInitiated)
        recent = LockedBox(RecentVectors(capacity: cacheCapacity))
    }

    public var modelID: String { embedder.modelID }
    public var dimension: Int { embedder.dimension }

    /// Texts answered from the cache so far, and texts the model encoded.
    public var counts: (cached: Int, encoded: Int) { recent.withLock { ($0.hits, $0.encoded) } }

    /// One L2-normalised vector per text, in order.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        guard texts.count <= Self.cachedRequestSize else {
            recent.withLock { $0.encoded += texts.count }
            return try await encode(texts)
        }
        let found = recent.withLock { cache in texts.map { cache.vector(for: $0) } }
        var missing: [String] = []
        for (text, vector) in zip(texts, found) where vector == nil && !missing.contains(text) { missing.append(text) }
        guard !missing.isEmpty else { return found.map { $0! } }
        let encoded = try await encode(missing)
        let fresh = Dictionary(uniqueKeysWithValues: zip(missing, encoded))
        recent.withLock { cache in
            for (text, vector) in fresh { cache.insert(vector, for: text) }
            cache.encoded += missing.count
        }
        return zip(texts, found).map { text, vector in vector ?? fresh[text]! }
    }

    private func encode(_ texts: [String]) async throws -> [[Float]] {
        let embedder = embedder
        return try await withCheckedThrowingContinuation { reply in
            queue.async { reply.resume(with: Result { try embedder.embed(texts) }) }
        }
    }
}

/// The vectors of recently embedded texts, in two generations: lookups search both and move a
/// hit into the newer; when the newer is full it becomes the older and the oldest is dropped.
/// Bounded at `capacity` entries, O(1) per operation.
struct RecentVectors: Sendable {
    let capacity: Int
    private var newer: [String: [Float]] = [:]
    private var older: [String: [Float]] = [:]
    var hits = 0
    var encoded = 0

    init(capacity: Int) { self.capacity = max(2, capacity) }

    mutating func vector(for text: String) -> [Float]? {
        if let vector = newer[text] {
            hits += 1
            return vector
        }
        guard let vector = older.removeValue(forKey: text) else { return nil }
        hits += 1
        insert(vector, for: text)
        return vector
    }

    mutating func insert(_ vector: [Float], for text: String) {
        if newer.count >= capacity / 2 {
            older = newer
            newer = [:]
        }
        newer[text] = vector
    }
}
