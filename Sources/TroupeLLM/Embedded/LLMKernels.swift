internal import CKernels
import TroupeCore

/// The Swift side of the C kernels (Sources/CKernels/llm_*.c) and of their thread pool: the only
/// file that sees a C type. Every kernel runs on this object's pool, at its vector level.
///
/// `@unchecked Sendable`: the pool may be driven by one thread at a time; the model owns one
/// instance and calls it only from its generation thread (tests, from one test at a time).
final class LLMKernels: @unchecked Sendable {
    /// The vector units the kernels have versions for.
    enum Level: Int, Sendable, CaseIterable {
        case portable = 0, avx2 = 1
    }

    /// One weight matrix of a product and where its output rows go.
    struct Projection {
        var type: GGMLType
        var weights: UnsafeRawPointer
        var rows: Int
        var output: UnsafeMutablePointer<Float>
        var outputStride: Int
    }

    private let pool: OpaquePointer
    let threads: Int
    let level: Level

    /// The best vector unit of this CPU.
    static var bestLevel: Level { Level(rawValue: Int(tk_llm_best_level())) ?? .portable }

    /// A pool of `threads` threads (the caller's included) at `level` (the best one when nil,
    /// or when the CPU lacks it).
    init(threads: Int, level: Level? = nil) throws {
        guard let pool = tk_pool_create(Int32(clamping: max(1, threads)), Int32(level?.rawValue ?? -1)) else {
            throw TroupeError(.unavailable, "cannot start the model's \(threads) threads")
        }
        self.pool = pool
        self.threads = Int(tk_pool_threads(pool))
        self.level = Level(rawValue: Int(tk_pool_level(pool))) ?? .portable
    }

    deinit { tk_pool_destroy(pool) }

    /// Bytes of one row of `columns` values of `type`.
    static func rowBytes(_ type: GGMLType, columns: Int) -> Int { Int(tk_llm_row_bytes(Int32(type.rawValue), columns)) }

    /// Dequantises `count` values of `type` (portable kernels: exact, for tests and embeddings).
    static func dequantize(type: GGMLType, _ data: UnsafeRawBufferPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
        tk_llm_dequantize(Int32(type.rawValue), data.baseAddress, count, output)
    }

    /// How a product computes (see llm_kernels.h).
    enum Arithmetic: Int32, Sendable {
        /// Float32 panels times every token row: a row's result is the same in any batch.
        case batch = 0
        /// One token, each quantised weight read once, Float32 activations.
        case vectorFloat32 = 1
        /// One token, activations quantised to int8 per block of 32, integer products.
        case vectorInt8 = 2
        /// One token, activations quantised to int16 per block of 32, integer products.
        case vectorInt16 = 3
    }

    /// output_p[t][r] = W_p[r] · input[t] for every projection (sharing one input of `columns`
    /// values per token).
    func matmul(_ projections: [Projection], columns: Int, input: UnsafePointer<Float>, inputStride: Int, tokens: Int,
                arithmetic: Arithmetic) throws {
        let status = withUnsafeTemporaryAllocation(of: tk_projection.self, capacity: projections.count) { buffer in
            for (i, p) in projections.enumerated() {
                buffer[i] = tk_projection(type: Int32(p.type.rawValue), weights: p.weights, rows: p.rows, out: p.output, out_stride: p.outputStride)
            }
            return tk_llm_matmul(pool, buffer.baseAddress, Int32(projections.count), columns, input, inputStride, tokens, arithmetic.rawValue)
        }
        guard status == 0 else { throw TroupeError(.unavailable, "matrix product failed: out of memory or a shape the kernels refuse") }
    }

    func rmsnorm(_ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, columns: Int, epsilon: Float, output: UnsafeMutablePointer<Float>) {
        tk_llm_rmsnorm(pool, input, weight, rows, columns, epsilon, output)
    }

    static func ropeTable(firstPosition: Int, count: Int, headSize: Int, theta: Double, into table: UnsafeMutablePointer<Float>) {
        tk_llm_rope_table(firstPosition, count, headSize, theta, table)
    }

    func rope(_ x: UnsafeMutablePointer<Float>, tokens: Int, stride: Int, heads: Int, headSize: Int, table: UnsafePointer<Float>) {
        tk_llm_rope(pool, x, tokens, stride, heads, headSize, table)
    }

    func swiglu(gate: UnsafeMutablePointer<Float>, gateStride: Int, up: UnsafePointer<Float>, upStride: Int, rows: Int, count: Int) {
        tk_llm_swiglu(pool, gate, gateStride, up, upStride, rows, count)
    }

    func add(_ x: UnsafeMutablePointer<Float>, xStride: Int, _ y: UnsafePointer<Float>, yStride: Int, rows: Int, count: Int) {
        tk_llm_add(pool, x, xStride, y, yStride, rows, count)
    }

    /// Stores `tokens` rows of keys and values at positions firstPosition… of the cache, in f16.
    func storeKV(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, tokens: Int, firstPosition: Int,
                 kvHeads: Int, headSize: Int, keyCache: UnsafeMutablePointer<UInt16>, valueCache: UnsafeMutablePointer<UInt16>,
                 headStride: Int) {
        tk_llm_kv_store(pool, keys, values, stride, tokens, firstPosition, kvHeads, headSize, keyCache, valueCache, headStride)
    }

    /// Causal attention of `tokens` queries at positions firstPosition… over the cache.
    func attention(
        queries: UnsafePointer<Float>, queryStride: Int, tokens: Int, firstPosition: Int, heads: Int, kvHeads: Int, headSize: Int,
        keyCache: UnsafePointer<UInt16>, valueCache: UnsafePointer<UInt16>, headStride: Int, output: UnsafeMutablePointer<Float>,
        outputStride: Int
    ) throws {
        let status = tk_llm_attention(
            pool, queries, queryStride, tokens, firstPosition, heads, kvHeads, headSize, keyCache, valueCache, headStride, output,
            outputStride)
        guard status == 0 else { throw TroupeError(.unavailable, "attention failed: out of memory or a shape the kernels refuse") }
    }

    static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int { tk_llm_argmax(x, count) }

    /// The k largest of `count` values, largest first (ties: lower index first).
    static func topK(_ x: UnsafePointer<Float>, count: Int, k: Int) -> (ids: [Int32], values: [Float]) {
        let k = max(0, min(k, count))
        var ids = [Int32](repeating: 0, count: k), values = [Float](repeating: 0, count: k)
        let written = ids.withUnsafeMutableBufferPointer { i in
            values.withUnsafeMutableBufferPointer { v in tk_llm_top_k(x, count, k, i.baseAddress, v.baseAddress) }
        }
        return (Array(ids[..<written]), Array(values[..<written]))
    }
}
