import Foundation
import Testing
import TroupeCore
import TroupeRetrieval
@testable import TroupeRuntime

@Suite("Recall cache entries")
struct RecallCacheCodingTests {
    @Test func aCachedAnswerKeepsEveryPartOfItsExplanation() throws {
        let record = MemoryRecord(id: "m1", owner: "athena", slice: .semantic, content: "the harbour opens at dawn", source: "t", createdAt: Date())
        let components = [
            ScoreComponent(name: "semantic", raw: 0.81, value: 1, weight: 0.52, spread: 0.12),
            ScoreComponent(name: "lexical", raw: 6.5, value: 0.9, weight: 0.28, spread: 0.12),
            ScoreComponent(name: "context", raw: 0.4, value: 0.4, weight: 0.5, source: "m0"),
        ]
        let decoded = try #require(Coordinator.decodeCached(Coordinator.encodeCached([RecallHit(record: record, score: 1.2, components: components)])))
        #expect(decoded.count == 1 && decoded[0].id == "m1" && decoded[0].score == 1.2)
        #expect(decoded[0].components == components, "the neighbour and the spread come back from the cache")
    }

    @Test func entriesOfOlderBuildsStillDecode() throws {
        let old = Array(#"[{"components":[["semantic",0.81,1,0.6]],"id":"m1","score":0.6}]"#.utf8)
        let decoded = try #require(Coordinator.decodeCached(old))
        #expect(decoded[0].components == [ScoreComponent(name: "semantic", raw: 0.81, value: 1, weight: 0.6)])
        #expect(Coordinator.decodeCached(Array(#"[{"components":[["semantic",0.81]],"id":"m1","score":0.6}]"#.utf8)) == nil)
    }
}
