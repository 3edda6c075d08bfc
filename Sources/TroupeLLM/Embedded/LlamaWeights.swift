import TroupeCore

/// The model's tensors, checked against the configuration: matrices stay quantised as in the
/// file, copied once into a ``WeightArena`` (huge pages; the file's own pages are then dropped
/// from the resident set); the small norm vectors are dequantised into arrays.
struct LlamaWeights: Sendable {
    /// A weight matrix: `rows` outputs of `columns` inputs.
    struct Matrix: @unchecked Sendable {
        // `@unchecked`: a pointer into the arena, read-only once loaded, which `LlamaWeights.arena`
        // keeps alive.
        var type: GGMLType
        var data: UnsafeRawPointer
        var rows: Int
        var columns: Int
    }

    struct Layer: Sendable {
        var attentionNorm: [Float], feedForwardNorm: [Float]
        var query, key, value, attentionOutput: Matrix
        var gate, up, down: Matrix
    }

    let file: GGUFFile
    let arena: WeightArena
    let tokenEmbedding: Matrix
    /// The output head: `output.weight`, or the token embedding when the model ties them.
    let output: Matrix
    let outputNorm: [Float]
    let layers: [Layer]

    init(file: GGUFFile, configuration c: LlamaConfiguration) throws {
        self.file = file
        var names = ["token_embd.weight"] + (file.hasTensor("output.weight") ? ["output.weight"] : [])
        for l in 0..<c.layers {
            names += ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"].map { "blk.\(l).\($0).weight" }
        }
        var offsets: [String: Int] = [:], total = 0
        for name in names {
            offsets[name] = total
            total += (try file.tensor(name).byteCount + 63) / 64 * 64
        }
        let arena = try WeightArena(bytes: total)
        self.arena = arena
        func matrix(_ name: String, rows: Int, columns: Int) throws -> Matrix {
            let tensor = try file.tensor(name)
            guard tensor.dimensions == [columns, rows] else {
                throw TroupeError(.invalidInput, "tensor '\(name)' has dimensions \(tensor.dimensions), expected [\(columns), \(rows)]", context: file.path)
            }
            guard rows % 16 == 0 else {
                throw TroupeError(.invalidInput, "tensor '\(name)' has \(rows) rows, not a multiple of 16 (the kernels' panels)", context: file.path)
            }
            let destination = arena.base + offsets[name]!
            destination.copyMemory(from: file.data(tensor).baseAddress!, byteCount: tensor.byteCount)
            file.discard(tensor)
            return Matrix(type: tensor.type, data: UnsafeRawPointer(destination), rows: rows, columns: columns)
        }
        func vector(_ name: String) throws -> [Float] {
            let tensor = try file.tensor(name)
            guard tensor.dimensions == [c.hidden] else {
                throw TroupeError(.invalidInput, "tensor '\(name)' has dimensions \(tensor.dimensions), expected [\(c.hidden)]", context: file.path)
            }
            return file.floats(tensor)
        }
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabulary, columns: c.hidden)
        output = file.hasTensor("output.weight") ? try matrix("output.weight", rows: c.vocabulary, columns: c.hidden) : tokenEmbedding
        outputNorm = try vector("output_norm.weight")
        layers = try (0..<c.layers).map { l in
            let p = "blk.\(l)."
            return Layer(
                attentionNorm: try vector(p + "attn_norm.weight"), feedForwardNorm: try vector(p + "ffn_norm.weight"),
                query: try matrix(p + "attn_q.weight", rows: c.hidden, columns: c.hidden),
                key: try matrix(p + "attn_k.weight", rows: c.kvDimension, columns: c.hidden),
                value: try matrix(p + "attn_v.weight", rows: c.kvDimension, columns: c.hidden),
                attentionOutput: try matrix(p + "attn_output.weight", rows: c.hidden, columns: c.hidden),
                gate: try matrix(p + "ffn_gate.weight", rows: c.feedForward, columns: c.hidden),
                up: try matrix(p + "ffn_up.weight", rows: c.feedForward, columns: c.hidden),
                down: try matrix(p + "ffn_down.weight", rows: c.hidden, columns: c.feedForward))
        }
    }

    /// Token `id`'s embedding row, dequantised into `output` (hidden values).
    func embed(_ id: Int32, into output: UnsafeMutablePointer<Float>) {
        let rowBytes = LLMKernels.rowBytes(tokenEmbedding.type, columns: tokenEmbedding.columns)
        let row = UnsafeRawBufferPointer(start: tokenEmbedding.data + Int(id) * rowBytes, count: rowBytes)
        LLMKernels.dequantize(type: tokenEmbedding.type, row, count: tokenEmbedding.columns, into: output)
    }
}
