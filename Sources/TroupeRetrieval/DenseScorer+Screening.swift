import Foundation
internal import CBLAS
internal import CKernels

/// Exact top-k for a single query that reads mostly an int8 copy of the vectors.
///
/// One query against a big matrix is bound by memory bandwidth (100K × 384 Float32 is 153 MB per
/// query). The int8 copy is a quarter of that; each row's bound from it is provably at least its
/// true score, so rescoring the best bounds exactly, and checking that nothing left out could
/// have made the cut, gives the same answer as the Float32 scan, or declines.
extension DenseScorer {
    /// The query as int16 codes with one scale, and the length of its rounding error. The range
    /// keeps the kernel's int32 sums from overflowing: 127 · range · d < 2³¹.
    static func quantize(query: UnsafeBufferPointer<Float>, dimension: Int) -> (codes: [Int16], scale: Float, error: Float) {
        let range = Float(min(32_767, Int(Int32.max) / (127 * max(dimension, 1))))
        var largest: Float = 0
        for i in 0..<dimension { largest = max(largest, abs(query[i])) }
        guard largest > 0, largest.isFinite else { return ([Int16](repeating: 0, count: dimension), 0, largest.isFinite ? 0 : .infinity) }
        let scale = largest / range
        var error: Float = 0
        let codes = (0..<dimension).map { i -> Int16 in
            let code = (query[i] / scale).rounded()
            let residual = query[i] - code * scale
            error += residual * residual
            return Int16(code)
        }
        return (codes, scale, error.squareRoot() * 1.001)
    }

    /// How many rows a screened search scores exactly for a top `k`.
    static func screenSize(k: Int) -> Int { max(4 * k, 256) }

    /// The best `k` rows for one query, reading mostly the int8 copy of the matrix (a quarter of
    /// the bytes): every row gets an upper bound on its score from its codes and margin, the rows
    /// with the best bounds are scored exactly, and the answer is returned only if no row left
    /// out could have reached the top `k`. `nil` means it could not be proven: score exactly.
    package static func screenedTopK(
        matrix: UnsafeBufferPointer<Float>, quantized: QuantizedRows, rows: Int, dimension: Int, query: UnsafeBufferPointer<Float>,
        k: Int, accept: ((Int) -> Bool)? = nil
    ) -> [Hit]? {
        let segment = ScreenSegment(matrix: matrix, quantized: quantized, rows: rows, accept: accept)
        return screenedTopK(segments: [segment], dimension: dimension, query: query, k: k)?.map(\.hit)
    }

    /// As above over several matrices at once (an owner's slices, say), which share one set of
    /// candidates and one proof. Hits name their segment; ties go to the lower segment, then row.
    package static func screenedTopK(
        segments: [ScreenSegment], dimension: Int, query: UnsafeBufferPointer<Float>, k: Int
    ) -> [(segment: Int, hit: Hit)]? {
        precondition(query.count >= dimension)
        guard k > 0 else { return [] }
        let norm = cblas_snrm2(Int32(dimension), query.baseAddress, 1)
        let (codes, codeScale, codeError) = quantize(query: query, dimension: dimension)
        var screened = BoundedHeap<SegmentHit>(capacity: screenSize(k: k), isWorse: SegmentHit.isWorse)
        let block = 4096
        var bounds = [Float](repeating: 0, count: block)
        bounds.withUnsafeMutableBufferPointer { bounds in
            codes.withUnsafeBufferPointer { codes in
                for (s, segment) in segments.enumerated() {
                    precondition(segment.matrix.count >= segment.rows * dimension && segment.quantized.codes.count >= segment.rows * dimension)
                    let q = segment.quantized
                    var start = 0
                    while start < segment.rows {
                        let n = min(block, segment.rows - start)
                        tk_dot_i8(
                            codes.baseAddress, codeScale, q.codes.baseAddress! + start * dimension, q.scales.baseAddress! + start, n,
                            dimension, bounds.baseAddress)
                        var floor = screened.isFull ? screened.worst!.score : -.infinity
                        for i in 0..<n {
                            let bound = bounds[i] + q.margins[start + i] * norm + q.lengths[start + i] * codeError
                            guard bound > floor else { continue }
                            if let accept = segment.accept, !accept(start + i) { continue }
                            screened.insert(SegmentHit(segment: s, row: start + i, score: bound))
                            if screened.isFull { floor = screened.worst!.score }
                        }
                        start += n
                    }
                }
            }
        }
        var best = BoundedHeap<SegmentHit>(capacity: k, isWorse: SegmentHit.isWorse)
        for candidate in screened.items {
            let row = segments[candidate.segment].matrix.baseAddress! + candidate.row * dimension
            best.insert(SegmentHit(segment: candidate.segment, row: candidate.row, score: cblas_sdot(Int32(dimension), query.baseAddress, 1, row, 1)))
        }
        let hits = best.sorted()
        // Every row left out has a bound no better than the worst bound kept; it cannot reach
        // the k-th exact score if that bound is strictly below it (equal could tie).
        if screened.isFull, let worstKept = screened.worst?.score {
            guard hits.count == k, worstKept < hits[k - 1].score else { return nil }
        }
        return hits.map { ($0.segment, Hit(row: $0.row, score: $0.score)) }
    }

    private struct SegmentHit {
        var segment: Int
        var row: Int
        var score: Float

        static func isWorse(_ a: SegmentHit, _ b: SegmentHit) -> Bool {
            a.score != b.score ? a.score < b.score : (a.segment, a.row) > (b.segment, b.row)
        }
    }
}

/// One matrix of a screened search: its Float32 rows, their int8 copy, and which rows count.
package struct ScreenSegment {
    package var matrix: UnsafeBufferPointer<Float>
    package var quantized: QuantizedRows
    package var rows: Int
    package var accept: ((Int) -> Bool)?

    package init(matrix: UnsafeBufferPointer<Float>, quantized: QuantizedRows, rows: Int, accept: ((Int) -> Bool)? = nil) {
        self.matrix = matrix
        self.quantized = quantized
        self.rows = rows
        self.accept = accept
    }
}
