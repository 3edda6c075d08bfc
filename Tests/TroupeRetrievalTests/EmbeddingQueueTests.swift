import Foundation
import Synchronization
import Testing
import TroupeRetrieval

/// The embedding queue's cache of recent texts: a turn embeds its message to recall, then to
/// store it; the second time must come from the cache and give the very same vector.
@Suite("Embedding queue")
struct EmbeddingQueueTests {
    /// Records every text the model was asked to encode.
    final class Recording: Embedder {
        let inner = HashingEmbedder()
        var modelID: String { inner.modelID }
        var dimension: Int { inner.dimension }
        let asked = Mutex<[String]>([])

        func embed(_ texts: [String]) throws -> [[Float]] {
            asked.withLock { $0 += texts }
            return inner.embed(texts)
        }
    }

    @Test func repeatedTextsComeFromTheCacheWithTheSameVector() async throws {
        let model = Recording()
        let queue = EmbeddingQueue(model)
        let first = try await queue.embed(["When is the deploy window?"])
        let second = try await queue.embed(["When is the deploy window?", "Friday at 18:00", "Friday at 18:00"])
        #expect(second[0] == first[0])
        #expect(second[1] == second[2])
        #expect(second == model.inner.embed(["When is the deploy window?", "Friday at 18:00", "Friday at 18:00"]))
        #expect(model.asked.withLock { $0 } == ["When is the deploy window?", "Friday at 18:00"])
        #expect(queue.counts.cached == 1 && queue.counts.encoded == 2)
    }

    @Test func theCacheIsBoundedAndBulkRequestsBypassIt() async throws {
        let model = Recording()
        let queue = EmbeddingQueue(model, cacheCapacity: 4)
        for i in 0..<6 { _ = try await queue.embed(["text \(i)"]) }
        // The oldest are gone: asking again encodes them again; the newest are still there.
        _ = try await queue.embed(["text 0", "text 5"])
        #expect(model.asked.withLock { $0.filter { $0 == "text 0" }.count } == 2)
        #expect(model.asked.withLock { $0.filter { $0 == "text 5" }.count } == 1)

        let bulk = (0..<40).map { "bulk \($0)" }
        _ = try await queue.embed(bulk)
        _ = try await queue.embed(["bulk 1"])
        #expect(model.asked.withLock { $0.filter { $0 == "bulk 1" }.count } == 2)
    }
}
