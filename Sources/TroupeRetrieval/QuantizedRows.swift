import Foundation
internal import CBLAS
internal import CKernels

/// The int8 copy of a row-major Float32 matrix that ``DenseScorer/screenedTopK`` reads. Per row:
/// the codes and their scale; a margin such that |q·x − scale·(q·codes)|, as both are computed in
/// Float32, is at most margin·‖q‖; and the length of scale·codes, which bounds what the query's
/// own rounding to int16 can change.
package struct QuantizedRows {
    package var codes: UnsafeBufferPointer<Int8>
    package var scales: UnsafeBufferPointer<Float>
    package var margins: UnsafeBufferPointer<Float>
    package var lengths: UnsafeBufferPointer<Float>

    package init(
        codes: UnsafeBufferPointer<Int8>, scales: UnsafeBufferPointer<Float>, margins: UnsafeBufferPointer<Float>,
        lengths: UnsafeBufferPointer<Float>
    ) {
        self.codes = codes
        self.scales = scales
        self.margins = margins
        self.lengths = lengths
    }

    /// Owned storage of the same, growing as rows are appended (the codes in pages, see
    /// ``PageBuffer``). Not `Sendable`: owned by one partition.
    package final class Storage {
        /// Row-major, `dimension` codes per row.
        package var codes: PageBuffer<Int8> { codeRows }
        private var codeRows = PageBuffer<Int8>()
        package private(set) var scales: [Float] = []
        package private(set) var margins: [Float] = []
        package private(set) var lengths: [Float] = []

        package init() {}

        /// Quantises `rows` rows of `matrix` and appends them.
        package func append(_ matrix: UnsafeBufferPointer<Float>, rows: Int, dimension: Int) {
            guard rows > 0 else { return }
            let rowStart = scales.count
            var fresh = [Int8](repeating: 0, count: rows * dimension)
            scales.append(contentsOf: repeatElement(0, count: rows))
            margins.append(contentsOf: repeatElement(0, count: rows))
            lengths.append(contentsOf: repeatElement(0, count: rows))
            fresh.withUnsafeMutableBufferPointer { c in
                scales.withUnsafeMutableBufferPointer { s in
                    margins.withUnsafeMutableBufferPointer { m in
                        tk_quantize_rows(
                            matrix.baseAddress, rows, dimension, c.baseAddress!, s.baseAddress! + rowStart, m.baseAddress! + rowStart)
                        // The kernel gives the rounding error's length. Float32 sums of d products
                        // (the quantised one and the exact one) each stray by at most about
                        // d·2⁻²⁴·‖q‖·‖x‖.
                        let rounding = 2.05 * Float(dimension) * Float.ulpOfOne / 2
                        for r in 0..<rows {
                            let length = cblas_snrm2(Int32(dimension), matrix.baseAddress! + r * dimension, 1)
                            m[rowStart + r] = m[rowStart + r] * 1.000_01 + rounding * length
                            var codeLength: Float = 0
                            for i in 0..<dimension {
                                let code = Float(c[r * dimension + i])
                                codeLength += code * code
                            }
                            lengths[rowStart + r] = codeLength.squareRoot() * s[rowStart + r] * 1.000_01
                        }
                    }
                }
            }
            codeRows.append(contentsOf: fresh)
        }

        /// Appends an all-zero row (a record without a vector; it scores 0).
        package func appendZeroRow(dimension: Int) {
            codeRows.append(repeating: 0, count: dimension)
            scales.append(0)
            margins.append(0)
            lengths.append(0)
        }

        /// Keeps only the rows for which `keep` is true, in order.
        package func filter(dimension: Int, _ keep: (Int) -> Bool) {
            let packed = PageBuffer<Int8>()
            var kept: [Int] = []
            codeRows.withUnsafeBufferPointer { codes in
                for row in scales.indices where keep(row) {
                    kept.append(row)
                    packed.append(contentsOf: UnsafeBufferPointer(rebasing: codes[row * dimension..<(row + 1) * dimension]))
                }
            }
            codeRows = packed
            scales = kept.map { scales[$0] }
            margins = kept.map { margins[$0] }
            lengths = kept.map { lengths[$0] }
        }

        /// Runs `body` with pointers into the arrays.
        package func withRows<R>(_ body: (QuantizedRows) -> R) -> R {
            codeRows.withUnsafeBufferPointer { c in
                scales.withUnsafeBufferPointer { s in
                    margins.withUnsafeBufferPointer { m in
                        lengths.withUnsafeBufferPointer { l in body(QuantizedRows(codes: c, scales: s, margins: m, lengths: l)) }
                    }
                }
            }
        }
    }
}
