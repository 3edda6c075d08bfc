import CKernels
import Foundation
import Testing
import TroupeCore

/// The kernels the CPU runs (AVX2+FMA here) against their portable versions, which a CPU without
/// AVX2 would run: both must compute the same thing to within float rounding.
@Suite("C kernels")
struct KernelTests {
    func values(_ count: Int, _ rng: inout SplitMix64, spread: Double = 4) -> [Float] {
        (0..<count).map { _ in Float((Double(rng.next() % 2_000_001) / 1_000_000 - 1) * spread) }
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func theVectorUnitIsReported() {
        #expect([0, 1].contains(tk_vector_unit()))
    }

    @Test func geluMatchesTheExactErfGELU() {
        var rng = SplitMix64(seed: 1)
        let rows = 7, cols = 37  // not a multiple of 8: the tail takes the scalar path
        let input = values(rows * cols, &rng, spread: 9), bias = values(cols, &rng, spread: 0.5)
        var fast = input, portable = input
        tk_bias_gelu(&fast, bias, rows, cols)
        tk_portable_bias_gelu(&portable, bias, rows, cols)
        #expect(maxDifference(fast, portable) < 1e-6)
        // And a few values by hand: GELU(0) = 0, GELU(-9) ≈ 0, GELU(9) ≈ 9.
        var edge: [Float] = [0, -9, 9, -0.5]
        tk_bias_gelu(&edge, [0, 0, 0, 0], 1, 4)
        #expect(edge[0] == 0 && abs(edge[1]) < 1e-12 && abs(edge[2] - 9) < 1e-6 && abs(edge[3] + 0.154_268_5) < 1e-6)
    }

    @Test func layerNormMatches() {
        var rng = SplitMix64(seed: 2)
        let rows = 5, cols = 388
        let input = values(rows * cols, &rng), residual = values(rows * cols, &rng)
        let scale = values(cols, &rng, spread: 1), shift = values(cols, &rng, spread: 1)
        var fast = input, portable = input
        tk_residual_layernorm(&fast, residual, scale, shift, rows, cols, 1e-12)
        tk_portable_residual_layernorm(&portable, residual, scale, shift, rows, cols, 1e-12)
        #expect(maxDifference(fast, portable) < 2e-5)
        var plain = input
        tk_residual_layernorm(&plain, nil, scale, shift, rows, cols, 1e-12)
        #expect(maxDifference(plain, fast) > 0.01)  // the residual was added
    }

    @Test func attentionMatches() {
        var rng = SplitMix64(seed: 3)
        let heads = 3, size = 16, n = 13, stride = 3 * heads * size + 5
        let qkv = values(n * stride, &rng, spread: 1)
        var fast = [Float](repeating: 0, count: n * heads * size), portable = fast
        var scratch = [Float](repeating: 0, count: n)
        tk_attention(qkv, stride, n, heads, size, 0.25, &fast, heads * size, &scratch)
        tk_portable_attention(qkv, stride, n, heads, size, 0.25, &portable, heads * size, &scratch)
        #expect(maxDifference(fast, portable) < 1e-5)
        #expect(fast.contains { $0 != 0 })
    }

    @Test func int8DotProductsAreExactIntegersTimesScales() {
        var rng = SplitMix64(seed: 4)
        let rows = 9, d = 48
        let query = (0..<d).map { _ in Int16(truncatingIfNeeded: Int(rng.next() % 65_535) - 32_767) }
        let codes = (0..<(rows * d)).map { _ in Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127) }
        let scales = values(rows, &rng, spread: 0.01)
        var fast = [Float](repeating: 0, count: rows), portable = fast
        tk_dot_i8(query, 0.5, codes, scales, rows, d, &fast)
        tk_portable_dot_i8(query, 0.5, codes, scales, rows, d, &portable)
        for r in 0..<rows {
            let exact = (0..<d).reduce(Int64(0)) { $0 + Int64(query[$1]) * Int64(codes[r * d + $1]) }
            let expected = Float(exact) * (scales[r] * 0.5)
            #expect(fast[r] == expected && portable[r] == expected, "row \(r)")
        }
    }
}
