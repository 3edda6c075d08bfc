import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// The vector kernels held to the portable ones (at every level this CPU has), and the portable
/// ones to plain double-precision arithmetic here.
@Suite("LLM kernels")
struct KernelTests {
    static let levels = LLMKernels.Level.allCases.filter { $0.rawValue <= LLMKernels.bestLevel.rawValue }

    /// Random weights of `type`: f16 scales in a realistic range, random codes.
    static func weights(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let count = LLMKernels.rowBytes(type, columns: columns) * rows
        var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        func half(_ at: Int, _ bits: UInt16) { bytes[at] = UInt8(bits & 0xFF); bytes[at + 1] = UInt8(bits >> 8) }
        switch type {
        case .q4_1:
            for b in stride(from: 0, to: count, by: 20) {
                half(b, 0x2000 + UInt16(random.next() % 0x800))  // d ≈ 0.008…0.016
                half(b + 2, 0xA000 + UInt16(random.next() % 0x800))  // m ≈ −0.008…−0.016
            }
        case .q8_0:
            for b in stride(from: 0, to: count, by: 34) { half(b, 0x2000 + UInt16(random.next() % 0x800)) }
        case .f16:
            for i in stride(from: 0, to: count, by: 2) { half(i, UInt16(random.next() % 0x3C00) | (random.next() % 2 == 0 ? 0 : 0x8000)) }
        case .f32:
            for i in stride(from: 0, to: count, by: 4) {
                let v = Float(Int(random.next() % 2001) - 1000) / 1000
                withUnsafeBytes(of: v.bitPattern.littleEndian) { for j in 0..<4 { bytes[i + j] = $0[j] } }
            }
        }
        return bytes
    }

    /// An f16 value, by the portable dequantiser.
    static func half(_ bits: UInt16) -> Float {
        var out: Float = 0
        withUnsafeBytes(of: bits.littleEndian) { LLMKernels.dequantize(type: .f16, $0, count: 1, into: &out) }
        return out
    }

    static func activations(_ count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(Int(random.next() % 20001) - 10000) / 5000 }
    }

    /// The largest difference relative to the mean magnitude of `reference`.
    static func relativeError(_ a: [Float], _ reference: [Float]) -> Double {
        let scale = reference.reduce(0) { $0 + Double(abs($1)) } / Double(max(reference.count, 1)) + 1e-30
        return zip(a, reference).map { Double(abs($0 - $1)) }.max()! / scale
    }

    static func matmul(_ kernels: LLMKernels, _ type: GGMLType, _ w: [UInt8], rows: Int, columns: Int, x: [Float], tokens: Int,
                       arithmetic: LLMKernels.Arithmetic) throws -> [Float] {
        var out = [Float](repeating: .nan, count: rows * tokens)
        try w.withUnsafeBytes { wb in
            try out.withUnsafeMutableBufferPointer { o in
                try kernels.matmul([.init(type: type, weights: wb.baseAddress!, rows: rows, output: o.baseAddress!, outputStride: rows)],
                                   columns: columns, input: x, inputStride: columns, tokens: tokens, arithmetic: arithmetic)
            }
        }
        return out
    }

    @Test(arguments: [GGMLType.q4_1, .q8_0, .f16, .f32])
    func productsMatchThePortableKernelsAndDoublePrecision(type: GGMLType) async throws {
        // Seconds of double-precision reference arithmetic in a debug build, and kernels whose
        // threads are joined when they are released: off the pool.
        try await onAThreadOfItsOwn("troupe-test.kernels") {
            let rows = 48, columns = 96
            let w = Self.weights(type, rows: rows, columns: columns, seed: UInt64(type.rawValue) + 1)
            var dequantized = [Float](repeating: 0, count: rows * columns)
            w.withUnsafeBytes { LLMKernels.dequantize(type: type, $0, count: rows * columns, into: &dequantized) }
            let portable = try LLMKernels(threads: 1, level: .portable)
            for tokens in [1, 5, 40] {
                let x = Self.activations(tokens * columns, seed: 7)
                let exact: [Float] = (0..<tokens).flatMap { t in
                    (0..<rows).map { r in Float((0..<columns).reduce(0.0) { $0 + Double(dequantized[r * columns + $1]) * Double(x[t * columns + $1]) }) }
                }
                for arithmetic in [LLMKernels.Arithmetic.batch, .vectorFloat32, .vectorInt16, .vectorInt8] {
                    let reference = try Self.matmul(portable, type, w, rows: rows, columns: columns, x: x, tokens: tokens, arithmetic: arithmetic)
                    // Float32 against double: summation order only. Quantised activations (Q4_1 and Q8_0
                    // weights, one token): int16 within 1e-4 of a value, int8 within 2%.
                    let quantised = tokens == 1 && (type == .q4_1 || type == .q8_0)
                    let allowed = quantised && arithmetic == .vectorInt8 ? 0.02 : quantised && arithmetic == .vectorInt16 ? 1e-4 : 1e-5
                    #expect(Self.relativeError(reference, exact) < allowed, "portable \(type) tokens \(tokens) \(arithmetic)")
                    if quantised && arithmetic == .vectorInt8 {
                        // int8 is as coarse as it should be, not coarser nor finer (a broken scale shows).
                        #expect(Self.relativeError(reference, exact) > 1e-4)
                    }
                    for level in Self.levels {
                        for threads in [1, 2] {
                            let kernels = try LLMKernels(threads: threads, level: level)
                            let out = try Self.matmul(kernels, type, w, rows: rows, columns: columns, x: x, tokens: tokens, arithmetic: arithmetic)
                            #expect(Self.relativeError(out, reference) < 1e-5, "\(level) × \(threads) \(type) tokens \(tokens) \(arithmetic)")
                            if arithmetic == .batch && tokens > 1 {
                                // A token's row is the same computed alone: batch arithmetic is per row.
                                let alone = try Self.matmul(kernels, type, w, rows: rows, columns: columns, x: Array(x[columns...]), tokens: 1,
                                                            arithmetic: .batch)
                                #expect(alone == Array(out[rows..<(2 * rows)]), "\(level): a row alone equals it in a batch")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Attention over a cache filled through kv_store, decode (1 query) and prefill (queries at
    /// positions after a cached prefix), against a double-precision softmax here.
    @Test func attentionMatchesThePortableKernelAndDoublePrecision() async throws {
        // As above: off the pool.
        try await onAThreadOfItsOwn("troupe-test.kernels") {
            let heads = 6, kvHeads = 2, headSize = 32, capacity = 80, cached = 30, tokens = 37
            let keys = Self.activations((cached + tokens) * kvHeads * headSize, seed: 3)
            let values = Self.activations((cached + tokens) * kvHeads * headSize, seed: 4)
            let queries = Self.activations(tokens * heads * headSize, seed: 5)
            func run(_ kernels: LLMKernels, queryRows: Int, first: Int) throws -> ([Float], [UInt16], [UInt16]) {
                var kc = [UInt16](repeating: 0, count: kvHeads * capacity * headSize), vc = kc
                kernels.storeKV(keys: keys, values: values, stride: kvHeads * headSize, tokens: cached + tokens, firstPosition: 0,
                                kvHeads: kvHeads, headSize: headSize, keyCache: &kc, valueCache: &vc, headStride: capacity * headSize)
                var out = [Float](repeating: .nan, count: queryRows * heads * headSize)
                let q = Array(queries[((tokens - queryRows) * heads * headSize)...])
                try kernels.attention(queries: q, queryStride: heads * headSize, tokens: queryRows, firstPosition: first, heads: heads,
                                      kvHeads: kvHeads, headSize: headSize, keyCache: kc, valueCache: vc, headStride: capacity * headSize,
                                      output: &out, outputStride: heads * headSize)
                return (out, kc, vc)
            }
            let portable = try LLMKernels(threads: 1, level: .portable)
            for (queryRows, first) in [(tokens, cached), (1, cached + tokens - 1)] {
                let (reference, kc, vc) = try run(portable, queryRows: queryRows, first: first)
                // Double precision over the f16 cache the kernels wrote.
                var exact = [Float](repeating: 0, count: reference.count)
                for t in 0..<queryRows {
                    for h in 0..<heads {
                        let g = h / (heads / kvHeads), visible = first + t + 1
                        let q = (0..<headSize).map { Double(queries[((tokens - queryRows + t) * heads + h) * headSize + $0]) }
                        func cache(_ c: [UInt16], _ p: Int, _ e: Int) -> Double { Double(Self.half(c[g * capacity * headSize + p * headSize + e])) }
                        let scores = (0..<visible).map { p in (0..<headSize).reduce(0.0) { $0 + q[$1] * cache(kc, p, $1) } / Double(headSize).squareRoot() }
                        let top = scores.max()!
                        let weights = scores.map { Foundation.exp($0 - top) }, total = weights.reduce(0, +)
                        for e in 0..<headSize {
                            exact[(t * heads + h) * headSize + e] = Float((0..<visible).reduce(0.0) { $0 + weights[$1] / total * cache(vc, $1, e) })
                        }
                    }
                }
                #expect(Self.relativeError(reference, exact) < 1e-5, "portable, \(queryRows) queries")
                for level in Self.levels {
                    for threads in [1, 2] {
                        let (out, kcv, vcv) = try run(LLMKernels(threads: threads, level: level), queryRows: queryRows, first: first)
                        #expect(kcv == kc && vcv == vc, "\(level): f16 rounding of the cache")
                        #expect(Self.relativeError(out, reference) < 1e-5, "\(level) × \(threads), \(queryRows) queries")
                    }
                }
            }
        }
    }

    @Test func elementwiseKernelsMatchThePortableOnes() async throws {
        // Off the pool: kernels with threads of their own join them when released.
        try await onAThreadOfItsOwn("troupe-test.kernels") {
            // Not a multiple of 8 columns: the vector kernels' tails run too; more rows than one pool
            // item holds: the rows spread over the threads.
            let rows = 19, columns = 136
            let x = Self.activations(rows * columns, seed: 11), weight = Self.activations(columns, seed: 12)
            let up = Self.activations(rows * columns, seed: 13)
            var table = [Float](repeating: 0, count: rows * 64)
            LLMKernels.ropeTable(firstPosition: 5, count: rows, headSize: 64, theta: 10_000, into: &table)
            #expect(abs(table[64 + 2] - Float(Foundation.cos(6 * Foundation.pow(10_000, -2.0 / 64)))) < 1e-6)
            func all(_ k: LLMKernels) -> [[Float]] {
                var norm = [Float](repeating: 0, count: rows * columns)
                k.rmsnorm(x, weight: weight, rows: rows, columns: columns, epsilon: 1e-5, output: &norm)
                var gate = x
                k.swiglu(gate: &gate, gateStride: columns, up: up, upStride: columns, rows: rows, count: columns)
                var sum = x
                k.add(&sum, xStride: columns, up, yStride: columns, rows: rows, count: columns)
                var rotated = Array(x[..<(rows * 128)])
                k.rope(&rotated, tokens: rows, stride: 128, heads: 2, headSize: 64, table: table)
                return [norm, gate, sum, rotated]
            }
            let reference = all(try LLMKernels(threads: 1, level: .portable))
            let rms = (0..<columns).reduce(0.0) { $0 + Double(x[$1] * x[$1]) } / Double(columns)
            #expect(abs(Double(reference[0][7]) - Double(x[7]) / (rms + 1e-5).squareRoot() * Double(weight[7])) < 1e-5)
            #expect(abs(Double(reference[1][9]) - Double(x[9]) / (1 + Foundation.exp(-Double(x[9]))) * Double(up[9])) < 1e-5)
            for level in Self.levels {
                for threads in [1, 2] {
                    for (i, (out, ref)) in zip(all(try LLMKernels(threads: threads, level: level)), reference).enumerated() {
                        #expect(Self.relativeError(out, ref) < 1e-6, "\(level) × \(threads) kernel \(i)")
                    }
                }
            }
        }
    }

    @Test func choosingTokens() async throws {
        // A 5000-value sort to check against: CPU work, off the pool.
        try await onAThreadOfItsOwn("troupe-test.kernels") { () async throws in
            let x: [Float] = [1, 5, -2, 5, .nan, 4, 3]
            #expect(LLMKernels.argmax(x, count: x.count) == 1)  // the lower of two equal, and NaN never wins
            let top = LLMKernels.topK(x, count: x.count, k: 4)
            #expect(top.ids == [1, 3, 5, 6] && top.values == [5, 5, 4, 3])
            #expect(LLMKernels.topK(x, count: x.count, k: 100).ids == [1, 3, 5, 6, 0, 2, 4])
            var random = SplitMix64(seed: 9)
            let many = (0..<5000).map { _ in Float(random.next() % 1000) }
            let expected = many.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }.prefix(50)
            #expect(LLMKernels.topK(many, count: many.count, k: 50).ids == expected.map { Int32($0.offset) })
        }
    }
}
