import Foundation
internal import CBLAS
import TroupeCore

/// all-MiniLM-L6-v2 in Swift: BERT WordPiece, six encoder layers whose every linear layer is one
/// `cblas_sgemm` over all the tokens of a batch, mean pooling and L2 normalisation.
///
/// Sentences of a batch are packed row after row without padding: linear layers work per token,
/// and attention runs per sentence on its own rows, so no work is spent on padding.
///
/// `@unchecked Sendable`: everything is immutable after `init`; the weights are read-only
/// pointers into the memory-mapped safetensors file, which the instance keeps alive.
public final class MiniLMEmbedder: Embedder, @unchecked Sendable {
    public static let defaultModelID = "all-minilm-l6-v2"
    public let modelID: String
    public let dimension = 384
    static let heads = 12, headSize = 32, intermediate = 1536, layerCount = 6

    let tokenizer: WordPieceTokenizer
    let weights: SafeTensors
    let wordEmbeddings, positionEmbeddings, typeEmbeddings, embeddingNormScale, embeddingNormShift: UnsafeBufferPointer<Float>
    let layers: [Layer]

    struct Layer {
        /// Query, key and value weights stacked into one 1152×384 matrix (one sgemm for all three).
        var qkv: [Float], qkvBias: [Float]
        var output, outputBias, attentionNormScale, attentionNormShift: UnsafeBufferPointer<Float>
        var up, upBias, down, downBias, outputNormScale, outputNormShift: UnsafeBufferPointer<Float>
    }

    /// Loads `model.safetensors` and `vocab.txt` from `directory`; errors name the missing or
    /// corrupt file.
    public init(directory: URL, modelID: String = MiniLMEmbedder.defaultModelID) throws {
        self.modelID = modelID
        let vocab = directory.appendingPathComponent("vocab.txt").path
        let model = directory.appendingPathComponent("model.safetensors").path
        for path in [vocab, model] where !FileManager.default.fileExists(atPath: path) {
            throw TroupeError(.unavailable, "model file is missing", context: path)
        }
        tokenizer = try WordPieceTokenizer(vocabularyFile: vocab)
        let w = try SafeTensors(path: model)
        weights = w
        let d = 384
        // Some exports prefix every name with "bert.".
        let prefix = w.tensors.keys.contains { $0.hasPrefix("bert.") } ? "bert." : ""
        func t(_ name: String, _ shape: [Int]) throws -> UnsafeBufferPointer<Float> { try w.floats(prefix + name, shape: shape) }
        wordEmbeddings = try t("embeddings.word_embeddings.weight", [tokenizer.tokens.count, d])
        positionEmbeddings = try t("embeddings.position_embeddings.weight", [512, d])
        typeEmbeddings = try t("embeddings.token_type_embeddings.weight", [2, d])
        embeddingNormScale = try t("embeddings.LayerNorm.weight", [d])
        embeddingNormShift = try t("embeddings.LayerNorm.bias", [d])
        layers = try (0..<Self.layerCount).map { l in
            let p = "encoder.layer.\(l)."
            let q = try t(p + "attention.self.query.weight", [d, d]), k = try t(p + "attention.self.key.weight", [d, d])
            let v = try t(p + "attention.self.value.weight", [d, d])
            let qb = try t(p + "attention.self.query.bias", [d]), kb = try t(p + "attention.self.key.bias", [d])
            let vb = try t(p + "attention.self.value.bias", [d])
            return Layer(
                qkv: Array(q) + Array(k) + Array(v), qkvBias: Array(qb) + Array(kb) + Array(vb),
                output: try t(p + "attention.output.dense.weight", [d, d]), outputBias: try t(p + "attention.output.dense.bias", [d]),
                attentionNormScale: try t(p + "attention.output.LayerNorm.weight", [d]),
                attentionNormShift: try t(p + "attention.output.LayerNorm.bias", [d]),
                up: try t(p + "intermediate.dense.weight", [Self.intermediate, d]), upBias: try t(p + "intermediate.dense.bias", [Self.intermediate]),
                down: try t(p + "output.dense.weight", [d, Self.intermediate]), downBias: try t(p + "output.dense.bias", [d]),
                outputNormScale: try t(p + "output.LayerNorm.weight", [d]), outputNormShift: try t(p + "output.LayerNorm.bias", [d]))
        }
    }

    /// The WordPiece tokens of `text`, [CLS] and [SEP] included.
    public func tokens(_ text: String) -> [String] { tokenizer.tokenStrings(text) }

    public func embed(_ texts: [String]) throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var batch: [[Int32]] = []
        var rows = 0
        // Batches of up to 8K tokens keep the buffers small (8K × 1536 floats is 48 MB).
        for text in texts {
            let ids = tokenizer.encode(text)
            if rows + ids.count > 8192, !batch.isEmpty {
                vectors += encode(batch)
                batch.removeAll()
                rows = 0
            }
            batch.append(ids)
            rows += ids.count
        }
        if !batch.isEmpty { vectors += encode(batch) }
        return vectors
    }

    /// Floating-point operations of the encoder for sentences of these token counts (for
    /// benchmarks: 2·m·n·k per matrix product).
    public static func flops(tokenCounts: [Int]) -> Double {
        let d = 384.0, rows = Double(tokenCounts.reduce(0, +))
        let linear = 2 * rows * d * (3 * d + d + 2 * Double(intermediate))
        let attention = tokenCounts.reduce(0.0) { $0 + 2 * 2 * Double($1) * Double($1) * d }
        return Double(layerCount) * (linear + attention)
    }

    /// Token counts of `texts` after truncation, [CLS] and [SEP] included.
    public func tokenCounts(_ texts: [String]) -> [Int] { texts.map { tokenizer.encode($0).count } }
}
