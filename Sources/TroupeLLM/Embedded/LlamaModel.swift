import TroupeCore

/// The llama decoder: pre-norm blocks (RMSNorm, grouped-query attention with RoPE on adjacent
/// pairs, SwiGLU), a final RMSNorm and the output head, over a KV cache.
///
/// A prompt runs in batches of up to `batchLimit` tokens, each weight matrix multiplied by the
/// whole batch at once (the kernels dequantise a panel of rows and reuse it for every token);
/// after it, one token per step. Not `Sendable`: one thread (the backend's generation thread, or
/// a test) owns an instance.
final class LlamaModel {
    let configuration: LlamaConfiguration
    let weights: LlamaWeights
    let kernels: LLMKernels
    /// The arithmetic of decode steps (prompt batches are always Float32).
    let decode: LLMKernels.Arithmetic
    static let batchLimit = 256

    private let cache: KVCache
    /// The tokens whose keys and values the cache holds, by position.
    private(set) var cachedTokens: [Int32] = []
    /// How many of them a prompt run computed (the rest are decode steps, whose arithmetic
    /// differs): only these are reused, so that a prompt's logits do not depend on what the
    /// cache held before, and a seeded reply repeats exactly.
    private var promptComputed = 0
    private let buffers: Buffers

    /// Scratch for one batch, allocated once.
    private struct Buffers {
        let x, normed, query, keys, values, attended, projected, gate, up, rope, logits: UnsafeMutablePointer<Float>

        init(_ c: LlamaConfiguration, batch: Int) {
            func make(_ count: Int) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
                p.initialize(repeating: 0, count: count)
                return p
            }
            x = make(batch * c.hidden)
            normed = make(batch * c.hidden)
            query = make(batch * c.hidden)
            keys = make(batch * c.kvDimension)
            values = make(batch * c.kvDimension)
            attended = make(batch * c.hidden)
            projected = make(batch * c.hidden)
            gate = make(batch * c.feedForward)
            up = make(batch * c.feedForward)
            rope = make(batch * c.headSize)
            logits = make(c.vocabulary)
        }

        func free() {
            for p in [x, normed, query, keys, values, attended, projected, gate, up, rope, logits] { p.deallocate() }
        }
    }

    /// A decoder over `weights` on `threads` threads; `contextLength` caps the cache (the
    /// model's own context when nil).
    init(weights: LlamaWeights, configuration: LlamaConfiguration, threads: Int, decode: LLMKernels.Arithmetic,
         contextLength: Int? = nil, level: LLMKernels.Level? = nil) throws {
        self.configuration = configuration
        self.weights = weights
        self.decode = decode
        kernels = try LLMKernels(threads: threads, level: level)
        let capacity = min(contextLength ?? configuration.contextLength, configuration.contextLength)
        guard capacity >= 2 else { throw TroupeError(.invalidInput, "a context of \(capacity) tokens cannot hold a prompt and a reply") }
        cache = try KVCache(layers: configuration.layers, capacity: capacity, kvHeads: configuration.kvHeads, headSize: configuration.headSize)
        buffers = Buffers(configuration, batch: Self.batchLimit)
    }

    deinit { buffers.free() }

    /// Positions the cache holds.
    var capacity: Int { cache.capacity }

    /// Forgets the cached tokens (and gives the cache's memory back).
    func reset() {
        cachedTokens.removeAll()
        promptComputed = 0
        cache.release()
    }

    /// Runs `prompt` and returns the logits after its last token. The cached tokens that begin
    /// the prompt are kept (a conversation's next turn only runs what is new) unless `reuse` is
    /// off; the last token always runs, for its logits. Nil when `isCancelled` says so between
    /// two batches.
    func prefill(_ prompt: [Int32], reuse: Bool = true, isCancelled: () -> Bool = { false }) throws -> UnsafeMutableBufferPointer<Float>? {
        guard !prompt.isEmpty else { throw TroupeError(.invalidInput, "the prompt is empty") }
        guard prompt.count <= cache.capacity else {
            throw TroupeError(.invalidInput, "the prompt takes \(prompt.count) tokens; the context holds \(cache.capacity)")
        }
        try check(prompt)
        var keep = 0
        if reuse {
            while keep < min(prompt.count - 1, promptComputed), prompt[keep] == cachedTokens[keep] { keep += 1 }
        }
        cachedTokens.removeSubrange(keep...)
        promptComputed = keep
        var start = keep
        while start < prompt.count {
            if isCancelled() { return nil }
            let end = min(start + Self.batchLimit, prompt.count)
            try forward(Array(prompt[start..<end]), arithmetic: .batch, logits: end == prompt.count)
            promptComputed = end
            start = end
        }
        return UnsafeMutableBufferPointer(start: buffers.logits, count: configuration.vocabulary)
    }

    /// Runs one more token and returns the logits after it.
    func decode(_ token: Int32) throws -> UnsafeMutableBufferPointer<Float> {
        guard cachedTokens.count < cache.capacity else { throw TroupeError(.invalidInput, "the context of \(cache.capacity) tokens is full") }
        try check([token])
        try forward([token], arithmetic: decode, logits: true)
        return UnsafeMutableBufferPointer(start: buffers.logits, count: configuration.vocabulary)
    }

    private func check(_ tokens: [Int32]) throws {
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= configuration.vocabulary }) {
            throw TroupeError(.invalidInput, "token id \(bad) is outside the vocabulary of \(configuration.vocabulary)")
        }
    }

    /// Runs `tokens` at the positions after the cached ones, filling the cache; writes the last
    /// token's logits when asked. The output head always runs as a single-token product (Float32
    /// after a prompt), so the first logits of a prompt are the same whichever batch it ends.
    private func forward(_ tokens: [Int32], arithmetic: LLMKernels.Arithmetic, logits wanted: Bool) throws {
        let c = configuration, b = buffers, k = kernels
        let n = tokens.count, first = cachedTokens.count, d = c.hidden, kv = c.kvDimension, ff = c.feedForward
        for (t, id) in tokens.enumerated() { weights.embed(id, into: b.x + t * d) }
        LLMKernels.ropeTable(firstPosition: first, count: n, headSize: c.headSize, theta: c.ropeTheta, into: b.rope)
        for (l, layer) in weights.layers.enumerated() {
            k.rmsnorm(b.x, weight: layer.attentionNorm, rows: n, columns: d, epsilon: c.rmsEpsilon, output: b.normed)
            try k.matmul(
                [project(layer.query, b.query, d), project(layer.key, b.keys, kv), project(layer.value, b.values, kv)],
                columns: d, input: b.normed, inputStride: d, tokens: n, arithmetic: arithmetic)
            k.rope(b.query, tokens: n, stride: d, heads: c.heads, headSize: c.headSize, table: b.rope)
            k.rope(b.keys, tokens: n, stride: kv, heads: c.kvHeads, headSize: c.headSize, table: b.rope)
            k.storeKV(keys: b.keys, values: b.values, stride: kv, tokens: n, firstPosition: first, kvHeads: c.kvHeads,
                      headSize: c.headSize, keyCache: cache.keys(l), valueCache: cache.values(l), headStride: cache.headStride)
            try k.attention(
                queries: b.query, queryStride: d, tokens: n, firstPosition: first, heads: c.heads, kvHeads: c.kvHeads,
                headSize: c.headSize, keyCache: cache.keys(l), valueCache: cache.values(l), headStride: cache.headStride,
                output: b.attended, outputStride: d)
            try k.matmul([project(layer.attentionOutput, b.projected, d)], columns: d, input: b.attended, inputStride: d, tokens: n, arithmetic: arithmetic)
            k.add(b.x, xStride: d, b.projected, yStride: d, rows: n, count: d)

            k.rmsnorm(b.x, weight: layer.feedForwardNorm, rows: n, columns: d, epsilon: c.rmsEpsilon, output: b.normed)
            try k.matmul([project(layer.gate, b.gate, ff), project(layer.up, b.up, ff)], columns: d, input: b.normed, inputStride: d, tokens: n, arithmetic: arithmetic)
            k.swiglu(gate: b.gate, gateStride: ff, up: b.up, upStride: ff, rows: n, count: ff)
            try k.matmul([project(layer.down, b.projected, d)], columns: ff, input: b.gate, inputStride: ff, tokens: n, arithmetic: arithmetic)
            k.add(b.x, xStride: d, b.projected, yStride: d, rows: n, count: d)
        }
        cachedTokens += tokens
        if wanted {
            k.rmsnorm(b.x + (n - 1) * d, weight: weights.outputNorm, rows: 1, columns: d, epsilon: c.rmsEpsilon, output: b.normed)
            try k.matmul([project(weights.output, b.logits, c.vocabulary)], columns: d, input: b.normed, inputStride: d, tokens: 1,
                         arithmetic: arithmetic == .batch ? .vectorFloat32 : arithmetic)
        }
    }

    private func project(_ m: LlamaWeights.Matrix, _ output: UnsafeMutablePointer<Float>, _ stride: Int) -> LLMKernels.Projection {
        LLMKernels.Projection(type: m.type, weights: m.data, rows: m.rows, output: output, outputStride: stride)
    }
}
