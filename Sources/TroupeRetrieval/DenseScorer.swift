import Foundation
internal import CBLAS

/// Exact top-k by inner product: a batch of queries against a row-major Float32 matrix.
///
/// The matrix is scored in blocks of rows, one `cblas_sgemm` per block for the whole batch
/// (`cblas_sgemv` for a single query), so the score buffer stays cache-sized however many rows
/// there are; each query keeps its best `k` in a bounded min-heap, and nothing else is sorted.
package enum DenseScorer {
    /// One hit: a row and its score.
    package struct Hit: Sendable, Hashable {
        package var row: Int
        package var score: Float
    }

    /// Rows per block: the block's score buffer (queries × rows floats) stays near 4 MiB.
    static func blockRows(queries: Int) -> Int { max(1024, (1 << 20) / max(queries, 1)) }

    /// The best `k` rows for each of `queryCount` queries (row-major, `dimension` floats each),
    /// best first, ties by lower row; rows for which `accept` is false are skipped.
    package static func topK(
        matrix: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int,
        k: Int, accept: ((Int, Int) -> Bool)? = nil
    ) -> [[Hit]] {
        precondition(matrix.count >= rows * dimension && queries.count >= queryCount * dimension)
        var heaps = (0..<queryCount).map { _ in BoundedHeap<Hit>(capacity: k, isWorse: isWorse) }
        guard k > 0 else { return heaps.map { $0.sorted() } }
        scoreBlocks(matrix: matrix, rows: rows, dimension: dimension, queries: queries, queryCount: queryCount) { start, n, scores in
            for q in 0..<queryCount {
                // A local heap and a raw row pointer keep the scan a compare per score; the heap
                // is written back once per block.
                var heap = heaps[q]
                let row = scores.baseAddress! + q * n
                var floor = heap.isFull ? heap.worst?.score ?? .infinity : -.infinity
                for i in 0..<n where row[i] > floor {
                    if let accept, !accept(q, start + i) { continue }
                    heap.insert(Hit(row: start + i, score: row[i]))
                    if heap.isFull { floor = heap.worst!.score }
                }
                heaps[q] = heap
            }
        }
        return heaps.map { $0.sorted() }
    }

    /// Scores the matrix block by block: `body(firstRow, rows, scores)` sees a queries × rows
    /// score block (row-major), valid only during the call.
    package static func scoreBlocks(
        matrix: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int,
        _ body: (Int, Int, UnsafeBufferPointer<Float>) -> Void
    ) {
        guard rows > 0, queryCount > 0 else { return }
        let block = blockRows(queries: queryCount)
        var scores = [Float](repeating: 0, count: min(block, rows) * queryCount)
        scores.withUnsafeMutableBufferPointer { scores in
            var start = 0
            while start < rows {
                let n = min(block, rows - start)
                let x = matrix.baseAddress! + start * dimension
                if queryCount == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(dimension), 1, x, Int32(dimension), queries.baseAddress, 1, 0, scores.baseAddress, 1)
                } else {
                    // scores (queries × n) = queries (queries × d) · blockᵀ (d × n)
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queryCount), Int32(n), Int32(dimension), 1,
                        queries.baseAddress, Int32(dimension), x, Int32(dimension), 0, scores.baseAddress, Int32(n))
                }
                body(start, n, UnsafeBufferPointer(rebasing: scores[0..<(n * queryCount)]))
                start += n
            }
        }
    }

    /// A lower score is worse; between equal scores, the higher row.
    static func isWorse(_ a: Hit, _ b: Hit) -> Bool { a.score != b.score ? a.score < b.score : a.row > b.row }
}
