import Foundation
internal import CBLAS
import TroupeRetrieval
import TroupeCore

/// Timings of the BLAS parts of retrieval, for `troupe bench retrieval` (prints, asserts nothing).
public enum ScorerBenchmark {
    /// One shape's figures: median milliseconds of a whole top-k batch and of its sgemm part.
    public struct Figures: Sendable {
        public var rows: Int, dimension: Int, queries: Int, k: Int
        public var batchMilliseconds: Double
        public var sgemmMilliseconds: Double
        /// 2·rows·queries·dimension floating-point operations over the sgemm part's time.
        public var gflops: Double { 2 * Double(rows) * Double(queries) * Double(dimension) / (sgemmMilliseconds / 1000) / 1e9 }
        /// The matrix bytes read per batch over the whole batch's time.
        public var gigabytesPerSecond: Double { Double(rows * dimension * 4) / (batchMilliseconds / 1000) / 1e9 }
        /// For a single query: the median time through the int8 screen (with its exact fallback).
        public var screenedMilliseconds: Double?
        /// For a single query: over `screenChecks` other queries, the share of the exact top k the
        /// screen returned, and how many answers it proved without falling back.
        public var screenRecall: Double?
        public var screenProven = 0, screenChecks = 0
    }

    /// The machine's single-precision matrix-multiply rate: the best of a few 2048³ `cblas_sgemm`.
    public static func sgemmPeak(size n: Int = 2048, repeats: Int = 5) -> Double {
        var rng = SplitMix64(seed: 1)
        let a = RandomVectors.unitRows(n, n, &rng), b = RandomVectors.unitRows(n, n, &rng)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            best = min(best, seconds(since: start))
        }
        return 2 * pow(Double(n), 3) / best / 1e9
    }

    /// Median timings over `repeats` batches (after one warm-up) of `queries` random unit queries
    /// against `rows` random unit vectors, top `k` each.
    public static func measure(rows: Int, dimension: Int = 384, queries: Int, k: Int = 10, repeats: Int = 15) -> Figures {
        var rng = SplitMix64(seed: 7)
        let matrix = RandomVectors.unitRows(rows, dimension, &rng), batch = RandomVectors.unitRows(queries, dimension, &rng)
        var whole: [Double] = [], sgemm: [Double] = []
        matrix.withUnsafeBufferPointer { m in
            batch.withUnsafeBufferPointer { q in
                for run in 0...repeats {
                    var start = DispatchTime.now()
                    _ = DenseScorer.topK(matrix: m, rows: rows, dimension: dimension, queries: q, queryCount: queries, k: k)
                    if run > 0 { whole.append(seconds(since: start)) }
                    start = DispatchTime.now()
                    DenseScorer.scoreBlocks(matrix: m, rows: rows, dimension: dimension, queries: q, queryCount: queries) { _, _, _ in }
                    if run > 0 { sgemm.append(seconds(since: start)) }
                }
            }
        }
        var figures = Figures(
            rows: rows, dimension: dimension, queries: queries, k: k, batchMilliseconds: median(whole) * 1000,
            sgemmMilliseconds: median(sgemm) * 1000)
        if queries == 1 { screen(matrix, &figures, repeats: repeats, rng: &rng) }
        return figures
    }

    /// Times the int8 screen, then checks it against the exact top k on 50 random queries.
    private static func screen(_ matrix: [Float], _ f: inout Figures, repeats: Int, rng: inout SplitMix64) {
        let storage = QuantizedRows.Storage()
        matrix.withUnsafeBufferPointer { storage.append($0, rows: f.rows, dimension: f.dimension) }
        let queries = RandomVectors.unitRows(50, f.dimension, &rng)
        let (rows, dimension, k) = (f.rows, f.dimension, f.k)
        var times: [Double] = [], found = 0, proven = 0
        matrix.withUnsafeBufferPointer { m in
            storage.withRows { quantized in
                queries.withUnsafeBufferPointer { all in
                    for q in 0..<50 {
                        let query = UnsafeBufferPointer(rebasing: all[(q * dimension)..<((q + 1) * dimension)])
                        let start = DispatchTime.now()
                        let screened = DenseScorer.screenedTopK(matrix: m, quantized: quantized, rows: rows, dimension: dimension, query: query, k: k)
                        let hits = screened ?? DenseScorer.topK(matrix: m, rows: rows, dimension: dimension, queries: query, queryCount: 1, k: k)[0]
                        if q > 0 { times.append(seconds(since: start)) }
                        let exact = DenseScorer.topK(matrix: m, rows: rows, dimension: dimension, queries: query, queryCount: 1, k: k)[0]
                        found += Set(hits.map(\.row)).intersection(exact.map(\.row)).count
                        if screened != nil { proven += 1 }
                    }
                }
            }
        }
        f.screenedMilliseconds = median(times) * 1000
        f.screenRecall = Double(found) / Double(50 * min(k, rows))
        f.screenProven = proven
        f.screenChecks = 50
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
