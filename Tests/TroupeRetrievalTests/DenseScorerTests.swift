import Foundation
import Testing
import TroupeCore
@testable import TroupeRetrieval

@Suite("Dense scorer")
struct DenseScorerTests {
    func random(_ count: Int, _ rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in Float(Double(rng.next() % 20_001) / 10_000 - 1) }
    }

    func brute(_ matrix: [Float], rows: Int, d: Int, query: ArraySlice<Float>, k: Int, accept: (Int) -> Bool) -> [Int] {
        let q = Array(query)
        var scored: [(row: Int, score: Float)] = []
        for r in 0..<rows where accept(r) {
            var score: Float = 0
            for i in 0..<d { score += matrix[r * d + i] * q[i] }
            scored.append((r, score))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        return scored.prefix(k).map(\.row)
    }

    @Test(arguments: [(rows: 2500, queries: 1, k: 10), (2500, 7, 1), (3000, 1100, 5), (5, 3, 10), (0, 2, 3), (1500, 64, 50)])
    func equalsBruteForce(rows: Int, queries: Int, k: Int) {
        var rng = SplitMix64(seed: UInt64(rows * 31 + queries))
        let d = 24
        let matrix = random(rows * d, &rng), batch = random(queries * d, &rng)
        let accept: (Int) -> Bool = { $0 % 7 != 3 }
        let found = matrix.withUnsafeBufferPointer { m in
            batch.withUnsafeBufferPointer { b in
                DenseScorer.topK(matrix: m, rows: rows, dimension: d, queries: b, queryCount: queries, k: k, accept: { accept($1) })
            }
        }
        #expect(found.count == queries)
        for q in stride(from: 0, to: queries, by: max(1, queries / 9)) {
            let expected = brute(matrix, rows: rows, d: d, query: batch[(q * d)..<((q + 1) * d)], k: k, accept: accept)
            #expect(found[q].map(\.row) == expected, "query \(q)")
        }
    }

    @Test func tiesGoToTheLowerRow() {
        let matrix: [Float] = [1, 0, 1, 0, 0.5, 0, 1, 0]
        let query: [Float] = [1, 0]
        let found = matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { DenseScorer.topK(matrix: m, rows: 4, dimension: 2, queries: $0, queryCount: 1, k: 2) }
        }
        #expect(found[0].map(\.row) == [0, 1])
    }
}
