import Foundation
internal import CBLAS
internal import CKernels

extension MiniLMEmbedder {
    /// Runs the encoder over sentences packed row after row; returns one unit vector each.
    ///
    /// The matrix products are BLAS (it threads them itself); the element-wise steps and
    /// attention are CKernels, split over the cores by rows (or sentences) when a batch is big
    /// enough to pay for it.
    func encode(_ sentences: [[Int32]]) -> [[Float]] {
        let d = dimension, rows = sentences.reduce(0) { $0 + $1.count }
        var x = [Float](repeating: 0, count: rows * d)
        var qkv = [Float](repeating: 0, count: rows * 3 * d)
        var context = [Float](repeating: 0, count: rows * d)
        var projected = [Float](repeating: 0, count: rows * d)
        var hidden = [Float](repeating: 0, count: rows * Self.intermediate)

        embedTokens(sentences, into: &x)
        for layer in layers {
            linear(x, rows: rows, inputs: d, weight: layer.qkv, outputs: 3 * d, into: &qkv)
            Self.rowParts(rows, of: &qkv, width: 3 * d) { part, count in layer.qkvBias.withFloats { tk_bias_add(part, $0.baseAddress, count, 3 * d) } }
            attention(sentences, qkv: qkv, into: &context)
            linear(context, rows: rows, inputs: d, weight: layer.output, outputs: d, into: &projected)
            addAndNormalize(&x, &projected, bias: layer.outputBias, scale: layer.attentionNormScale, shift: layer.attentionNormShift)
            linear(x, rows: rows, inputs: d, weight: layer.up, outputs: Self.intermediate, into: &hidden)
            Self.rowParts(rows, of: &hidden, width: Self.intermediate) { part, count in
                tk_bias_gelu(part, layer.upBias.baseAddress, count, Self.intermediate)
            }
            linear(hidden, rows: rows, inputs: Self.intermediate, weight: layer.down, outputs: d, into: &projected)
            addAndNormalize(&x, &projected, bias: layer.downBias, scale: layer.outputNormScale, shift: layer.outputNormShift)
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
        let scale = embeddingNormScale.baseAddress, shift = embeddingNormShift.baseAddress
        Self.rowParts(row, of: &x, width: d) { part, count in tk_residual_layernorm(part, nil, scale, shift, count, d, 1e-12) }
    }

    /// out (rows × outputs) = input (rows × inputs) · weightᵀ, one `cblas_sgemm`; weight is
    /// outputs × inputs, as PyTorch stores it. The bias is the caller's, fused with what follows.
    private func linear(_ input: [Float], rows: Int, inputs: Int, weight: some WeightStorage, outputs: Int, into out: inout [Float]) {
        input.withUnsafeBufferPointer { a in
            weight.withFloats { w in
                out.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                        a.baseAddress, Int32(inputs), w.baseAddress, Int32(inputs), 0, c.baseAddress, Int32(outputs))
                }
            }
        }
    }

    /// Scaled dot-product attention, per sentence on its own rows of the packed Q, K, V; the
    /// sentences are shared out between the cores.
    private func attention(_ sentences: [[Int32]], qkv: [Float], into context: inout [Float]) {
        let d = dimension
        let scale = 1 / Float(Self.headSize).squareRoot()
        var offsets: [Int] = []
        offsets.reserveCapacity(sentences.count)
        var rows = 0
        for ids in sentences {
            offsets.append(rows)
            rows += ids.count
        }
        let starts = offsets, total = rows
        let longest = sentences.map(\.count).max() ?? 0
        let parts = Self.parts(for: total)
        qkv.withUnsafeBufferPointer { qkv in
            context.withUnsafeMutableBufferPointer { out in
                let source = UncheckedPointer(UnsafeMutablePointer(mutating: qkv.baseAddress!)), target = UncheckedPointer(out.baseAddress!)
                Self.concurrently(parts) { part in
                    var scratch = [Float](repeating: 0, count: longest)
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        // Sentence ranges of about equal token counts.
                        for s in sentences.indices where starts[s] * parts / max(total, 1) == part {
                            tk_attention(
                                source.pointer + starts[s] * 3 * d, 3 * d, sentences[s].count, Self.heads, Self.headSize, scale,
                                target.pointer + starts[s] * d, d, scratch.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// x = LayerNorm(x + projected + bias); `projected` is used up.
    private func addAndNormalize(
        _ x: inout [Float], _ projected: inout [Float], bias: UnsafeBufferPointer<Float>, scale: UnsafeBufferPointer<Float>,
        shift: UnsafeBufferPointer<Float>
    ) {
        let d = dimension
        projected.withUnsafeMutableBufferPointer { projected in
            let residual = UncheckedPointer(projected.baseAddress!)
            Self.rowParts(x.count / d, of: &x, width: d) { part, count, first in
                let added = residual.pointer + first * d
                tk_bias_add(added, bias.baseAddress, count, d)
                tk_residual_layernorm(part, added, scale.baseAddress, shift.baseAddress, count, d, 1e-12)
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

    // MARK: Sharing work between cores

    /// How many parts to split `rows` rows of work into: one per core, but one part for small
    /// batches (a single query), where waking another thread costs more than it saves.
    static func parts(for rows: Int) -> Int { rows >= 256 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) : 1 }

    /// Runs `body(part)` for every part, in parallel when there is more than one.
    static func concurrently(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        if parts == 1 { return body(0) }
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }

    /// Splits a `rows × width` matrix into row ranges and runs `body(firstRowPointer, rowCount)`
    /// on each, in parallel for big batches.
    static func rowParts(_ rows: Int, of matrix: inout [Float], width: Int, _ body: (UnsafeMutablePointer<Float>, Int) -> Void) {
        rowParts(rows, of: &matrix, width: width) { part, count, _ in body(part, count) }
    }

    /// As above; `body` also gets the index of its first row.
    static func rowParts(
        _ rows: Int, of matrix: inout [Float], width: Int, _ body: (UnsafeMutablePointer<Float>, Int, Int) -> Void
    ) {
        let parts = Self.parts(for: rows)
        matrix.withUnsafeMutableBufferPointer { m in
            let base = UncheckedPointer(m.baseAddress!)
            // `concurrentPerform` runs every iteration before it returns, so the non-escaping
            // `body` outlives none of them.
            withoutActuallyEscaping(body) { body in
                let shared = UncheckedBody(body)
                concurrently(parts) { part in
                    let first = part * rows / parts, end = (part + 1) * rows / parts
                    if end > first { shared.body(base.pointer + first * width, end - first, first) }
                }
            }
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

/// A buffer pointer handed to `concurrentPerform`, whose iterations touch disjoint ranges.
///
/// `@unchecked Sendable`: only used for the duration of one `concurrentPerform` call, by
/// iterations that write disjoint elements (and read what no iteration writes).
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

/// A row-range body shared with `concurrentPerform`'s iterations.
///
/// `@unchecked Sendable`: the closure only runs during that call, on disjoint row ranges.
private struct UncheckedBody: @unchecked Sendable {
    let body: (UnsafeMutablePointer<Float>, Int, Int) -> Void
    init(_ body: @escaping (UnsafeMutablePointer<Float>, Int, Int) -> Void) { self.body = body }
}
