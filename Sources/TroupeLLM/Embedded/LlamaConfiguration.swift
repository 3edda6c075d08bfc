import TroupeCore

/// A llama-architecture model's hyperparameters, read from its GGUF metadata and checked for
/// what the kernels need.
struct LlamaConfiguration: Sendable, Equatable {
    var layers: Int
    var hidden: Int
    var feedForward: Int
    var heads: Int
    var kvHeads: Int
    var headSize: Int
    var contextLength: Int
    var ropeTheta: Double
    var rmsEpsilon: Float
    var vocabulary: Int

    var kvDimension: Int { kvHeads * headSize }

    init(gguf: GGUFFile) throws {
        let architecture = try gguf.string("general.architecture")
        guard architecture == "llama" else {
            throw TroupeError(.invalidInput, "model architecture '\(architecture)' is not supported (only llama)", context: gguf.path)
        }
        let a = architecture
        layers = try gguf.positiveInteger("\(a).block_count")
        hidden = try gguf.positiveInteger("\(a).embedding_length")
        feedForward = try gguf.positiveInteger("\(a).feed_forward_length")
        heads = try gguf.positiveInteger("\(a).attention.head_count")
        kvHeads = gguf.metadata["\(a).attention.head_count_kv"] == nil ? heads : try gguf.positiveInteger("\(a).attention.head_count_kv")
        contextLength = try gguf.positiveInteger("\(a).context_length")
        ropeTheta = gguf.metadata["\(a).rope.freq_base"] == nil ? 10_000 : try gguf.number("\(a).rope.freq_base")
        rmsEpsilon = Float(try gguf.number("\(a).attention.layer_norm_rms_epsilon"))
        headSize = hidden / heads
        vocabulary = try gguf.tensor("token_embd.weight").rows

        func refuse(_ why: String) -> TroupeError { TroupeError(.invalidInput, "model shape not supported: \(why)", context: gguf.path) }
        guard hidden % heads == 0, heads % kvHeads == 0 else { throw refuse("\(heads) heads of \(kvHeads) KV heads over \(hidden) values") }
        guard headSize % 16 == 0 else { throw refuse("head size \(headSize) is not a multiple of 16") }
        if let rope = gguf.metadata["\(a).rope.dimension_count"] {
            guard rope.integer == headSize else { throw refuse("RoPE over \(rope) of \(headSize) head values (partial RoPE)") }
        }
        guard hidden % 32 == 0, feedForward % 32 == 0 else { throw refuse("widths \(hidden) and \(feedForward) are not multiples of 32") }
        guard ropeTheta > 0, rmsEpsilon > 0 else { throw refuse("rope.freq_base \(ropeTheta), rms epsilon \(rmsEpsilon)") }
        guard contextLength <= 1 << 20, layers <= 1024 else { throw refuse("context \(contextLength), \(layers) layers") }
    }
}
