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
    func equalsBruteForce(rows: Int, queries: Int, k: Int) async throws {
        // Brute force in Swift: seconds in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.dense") { () async throws in
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
    }

    @Test func tiesGoToTheLowerRow() {
        let matrix: [Float] = [1, 0, 1, 0, 0.5, 0, 1, 0]
        let query: [Float] = [1, 0]
        let found = matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { DenseScorer.topK(matrix: m, rows: 4, dimension: 2, queries: $0, queryCount: 1, k: 2) }
        }
        #expect(found[0].map(\.row) == [0, 1])
    }

    // MARK: int8 screening

    func unitRows(_ rows: Int, _ d: Int, seed: UInt64) -> [Float] {
        RandomVectors.unitVectors(rows, dimension: d, seed: seed).flatMap { $0 }
    }

    func quantize(_ matrix: [Float], rows: Int, d: Int) -> QuantizedRows.Storage {
        let storage = QuantizedRows.Storage()
        matrix.withUnsafeBufferPointer { storage.append($0, rows: rows, dimension: d) }
        return storage
    }

    func screened(_ matrix: [Float], _ storage: QuantizedRows.Storage, rows: Int, d: Int, query: ArraySlice<Float>, k: Int,
                  accept: ((Int) -> Bool)? = nil) -> [DenseScorer.Hit]? {
        matrix.withUnsafeBufferPointer { m in
            storage.withRows { quantized in
                query.withUnsafeBufferPointer { query in
                    DenseScorer.screenedTopK(matrix: m, quantized: quantized, rows: rows, dimension: d, query: query, k: k, accept: accept)
                }
            }
        }
    }

    @Test func quantisedScoresStayWithinTheirMargins() async throws {
        // 10K dot products in double precision, and their checks: seconds in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.dense") {
            let d = 384, rows = 500
            // Unit rows, and rows with a few large coordinates (as real embeddings have).
            var matrix = unitRows(rows, d, seed: 5)
            for r in stride(from: 0, to: rows, by: 3) { matrix[r * d + r % d] *= 40 }
            let queries = unitRows(20, d, seed: 6)
            let storage = quantize(matrix, rows: rows, d: d)
            var worst = 0.0
            for q in 0..<20 {
                let query = Array(queries[(q * d)..<((q + 1) * d)])
                let (codes, scale, error) = query.withUnsafeBufferPointer { DenseScorer.quantize(query: $0, dimension: d) }
                for r in 0..<rows {
                    var exact = 0.0, approx = 0.0
                    for i in 0..<d {
                        exact += Double(query[i]) * Double(matrix[r * d + i])
                        approx += Double(codes[i]) * Double(storage.codes[r * d + i])
                    }
                    approx *= Double(storage.scales[r]) * Double(scale)
                    let bound = Double(storage.margins[r]) + Double(storage.lengths[r]) * Double(error)
                    #expect(abs(exact - approx) <= bound, "row \(r) query \(q)")
                    worst = max(worst, abs(exact - approx) / bound)
                }
            }
            // The margin is a bound, not a wild overestimate.
            #expect(worst > 0.05)
        }
    }

    @Test(arguments: [(rows: 20_000, k: 10, filtered: false), (20_000, 100, true), (9000, 1, false), (300, 50, true)])
    func screeningEqualsTheExactTopK(rows: Int, k: Int, filtered: Bool) async throws {
        // 20K random rows and their int8 screen: seconds of CPU work in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.dense") {
            let d = 384
            let matrix = unitRows(rows, d, seed: UInt64(rows + k)), queries = unitRows(8, d, seed: 99)
            let storage = quantize(matrix, rows: rows, d: d)
            let accept: ((Int) -> Bool)? = filtered ? { $0 % 5 != 2 } : nil
            var proven = 0
            for q in 0..<8 {
                let query = queries[(q * d)..<((q + 1) * d)]
                let screened = screened(matrix, storage, rows: rows, d: d, query: query, k: k, accept: accept)
                let exact = matrix.withUnsafeBufferPointer { m in
                    query.withUnsafeBufferPointer { query in
                        DenseScorer.topK(
                            matrix: m, rows: rows, dimension: d, queries: query, queryCount: 1, k: k, accept: accept.map { accept in { accept($1) } })[0]
                    }
                }
                if let screened {
                    proven += 1
                    #expect(screened.map(\.row) == exact.map(\.row), "query \(q)")
                    // Equal up to summation order (sdot here, sgemv there).
                    #expect(zip(screened, exact).allSatisfy { abs($0.score - $1.score) < 1e-6 }, "query \(q)")
                }
            }
            // Random unit vectors are the hard case (the top scores crowd together); the screen
            // still proves its answer for them.
            #expect(proven == 8)
        }
    }

    @Test func screeningDeclinesWhenRowsCannotBeToldApart() async throws {
        // 2000 rows quantised and screened: seconds in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.dense") { () async throws in
            let d = 384, rows = 2000
            let row = unitRows(1, d, seed: 1)
            let matrix = Array((0..<rows).map { _ in row }.joined())
            let storage = quantize(matrix, rows: rows, d: d)
            let screened = screened(matrix, storage, rows: rows, d: d, query: unitRows(1, d, seed: 2)[...], k: 10)
            #expect(screened == nil)
        }
    }
}
