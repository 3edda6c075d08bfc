import Foundation
internal import CBLAS

extension MiniLMEmbedder {
    /// Runs the encoder over sentences packed row after row; returns one unit vector each.
    func encode(_ sentences: [[Int32]]) -> [[Float]] {
        let d = dimension, rows = sentences.reduce(0) { $0 + $1.count }
        var x = [Float](repeating: 0, count: rows * d)
        var qkv = [Float](repeating: 0, count: rows * 3 * d)
        var context = [Float](repeating: 0, count: rows * d)
        var hidden = [Float](repeating: 0, count: rows * Self.intermediate)
        let longest = sentences.map(\.count).max() ?? 0
        var scores = [Float](repeating: 0, count: longest * longest)

        embedTokens(sentences, into: &x)
        for layer in layers {
            linear(x, rows: rows, inputs: d, weight: layer.qkv, bias: layer.qkvBias, outputs: 3 * d, into: &qkv)
            attention(sentences, qkv: qkv, scores: &scores, into: &context)
            linear(context, rows: rows, inputs: d, weight: layer.output, bias: layer.outputBias, outputs: d, into: &context)
            addAndNormalize(&x, context, scale: layer.attentionNormScale, shift: layer.attentionNormShift)
            linear(x, rows: rows, inputs: d, weight: layer.up, bias: layer.upBias, outputs: Self.intermediate, into: &hidden)
            gelu(&hidden)
            linear(hidden, rows: rows, inputs: Self.intermediate, weight: layer.down, bias: layer.downBias, outputs: d, into: &context)
            addAndNormalize(&x, context, scale: layer.outputNormScale, shift: layer.outputNormShift)
        }
        return pool(sentences, x)
    }

    private func embedTokens(_ sentences: [[Int32]], into x: inout [Float]) {
        let d = dimension
        var row = 0
        x.withUnsafeMutableBufferPointer { x in
            for ids in sentences {
                for (position, id) in ids.enumerated() {
                    let out = x.baseAddress! + row * d
                    let word = wordEmbeddings.baseAddress! + Int(id) * d, place = positionEmbeddings.baseAddress! + position * d
                    for i in 0..<d { out[i] = word[i] + place[i] + typeEmbeddings[i] }
                    row += 1
                }
            }
        }
        normalizeRows(&x, scale: embeddingNormScale, shift: embeddingNormShift)
    }

    /// out (rows × outputs) = input (rows × inputs) · weightᵀ + bias; weight is outputs × inputs,
    /// as PyTorch stores it. `input` may be `out`'s old contents: it is copied first in that case.
    private func linear(
        _ input: [Float], rows: Int, inputs: Int, weight: some WeightStorage, bias: some WeightStorage, outputs: Int,
        into out: inout [Float]
    ) {
        input.withUnsafeBufferPointer { a in
            weight.withFloats { w in
                out.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                        a.baseAddress, Int32(inputs), w.baseAddress, Int32(inputs), 0, c.baseAddress, Int32(outputs))
                }
            }
        }
        bias.withFloats { b in
            out.withUnsafeMutableBufferPointer { c in
                for r in 0..<rows {
                    let row = c.baseAddress! + r * outputs
                    for i in 0..<outputs { row[i] += b[i] }
                }
            }
        }
    }

    /// Scaled dot-product attention, per sentence and head, on the packed Q, K, V rows.
    private func attention(_ sentences: [[Int32]], qkv: [Float], scores: inout [Float], into context: inout [Float]) {
        let d = dimension, stride = 3 * d, hs = Self.headSize
        let scale = 1 / Float(hs).squareRoot()
        var start = 0
        qkv.withUnsafeBufferPointer { qkv in
            scores.withUnsafeMutableBufferPointer { s in
                context.withUnsafeMutableBufferPointer { out in
                    for ids in sentences {
                        let n = ids.count
                        let base = qkv.baseAddress! + start * stride
                        for h in 0..<Self.heads {
                            let q = base + h * hs, k = base + d + h * hs, v = base + 2 * d + h * hs
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(hs), scale,
                                q, Int32(stride), k, Int32(stride), 0, s.baseAddress, Int32(n))
                            for r in 0..<n { softmax(s.baseAddress! + r * n, count: n) }
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(hs), Int32(n), 1,
                                s.baseAddress, Int32(n), v, Int32(stride), 0, out.baseAddress! + start * d + h * hs, Int32(d))
                        }
                        start += n
                    }
                }
            }
        }
    }

    private func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var top = -Float.infinity
        for i in 0..<count { top = max(top, row[i]) }
        var sum: Float = 0
        for i in 0..<count {
            row[i] = expf(row[i] - top)
            sum += row[i]
        }
        let inverse = 1 / sum
        for i in 0..<count { row[i] *= inverse }
    }

    /// The exact GELU: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)). `erff` is scalar and this is
    /// the largest element-wise step (a tenth of the encoder's time on one core), so big
    /// batches split it over two threads.
    private func gelu(_ values: inout [Float]) {
        let invSqrt2 = Float(1 / 2.0.squareRoot())
        values.withUnsafeMutableBufferPointer { v in
            let parts = v.count >= 1 << 16 ? 2 : 1
            let base = UncheckedPointer(v.baseAddress!), count = v.count
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let p = base.pointer
                for i in (part * count / parts)..<((part + 1) * count / parts) { p[i] = 0.5 * p[i] * (1 + erff(p[i] * invSqrt2)) }
            }
        }
    }

    /// x = LayerNorm(x + residual).
    private func addAndNormalize(_ x: inout [Float], _ residual: [Float], scale: UnsafeBufferPointer<Float>, shift: UnsafeBufferPointer<Float>) {
        x.withUnsafeMutableBufferPointer { x in
            residual.withUnsafeBufferPointer { r in
                for i in x.indices { x[i] += r[i] }
            }
        }
        normalizeRows(&x, scale: scale, shift: shift)
    }

    /// LayerNorm of every row (eps 1e-12), sums in Double for accuracy.
    private func normalizeRows(_ x: inout [Float], scale: UnsafeBufferPointer<Float>, shift: UnsafeBufferPointer<Float>) {
        let d = dimension
        x.withUnsafeMutableBufferPointer { x in
            for r in 0..<(x.count / d) {
                let row = x.baseAddress! + r * d
                var mean = 0.0
                for i in 0..<d { mean += Double(row[i]) }
                mean /= Double(d)
                var variance = 0.0
                for i in 0..<d {
                    let centred = Double(row[i]) - mean
                    variance += centred * centred
                }
                let inverse = 1 / (variance / Double(d) + 1e-12).squareRoot()
                for i in 0..<d { row[i] = Float((Double(row[i]) - mean) * inverse) * scale[i] + shift[i] }
            }
        }
    }

    /// Mean over each sentence's rows, then L2 normalisation.
    private func pool(_ sentences: [[Int32]], _ x: [Float]) -> [[Float]] {
        let d = dimension
        var start = 0
        return sentences.map { ids in
            var mean = [Double](repeating: 0, count: d)
            for r in start..<(start + ids.count) {
                for i in 0..<d { mean[i] += Double(x[r * d + i]) }
            }
            start += ids.count
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return mean.map { Float($0 / max(norm, 1e-12)) }
        }
    }
}

/// Weights held in an array (stacked at load) or read in place from the mapped file.
protocol WeightStorage {
    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R
}

extension Array: WeightStorage where Element == Float {
    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R { withUnsafeBufferPointer(body) }
}

extension UnsafeBufferPointer: WeightStorage where Element == Float {
    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R { body(self) }
}

/// A buffer pointer handed to `concurrentPerform`, whose iterations write disjoint ranges.
///
/// `@unchecked Sendable`: only used for the duration of one `concurrentPerform` call, by
/// iterations that touch disjoint elements.
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
