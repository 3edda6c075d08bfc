import Foundation
import TroupeStoreConformance
import Testing
import TroupeCore
@testable import TroupeRetrieval

/// The model's directory: `$TROUPE_MODEL_DIR`, else `$TROUPE_HOME/models/…`, else `~/.troupe/models/…`
/// (where Scripts/setup installs it).
func installedModelDirectory() -> URL? {
    let env = ProcessInfo.processInfo.environment
    let home = env["TROUPE_HOME"] ?? (NSHomeDirectory() + "/.troupe")
    let candidates = [env["TROUPE_MODEL_DIR"], home + "/models/all-minilm-l6-v2"].compactMap { $0 }
    return candidates.map(URL.init(fileURLWithPath:)).first {
        FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.safetensors").path)
    }
}

@Suite("MiniLM embedder")
struct MiniLMEmbedderTests {
    struct Reference: Decodable {
        var text: String
        var tokens: [String]
        var embedding: [Float]
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every line of shared/reference: equal tokens and cosine ≥ 0.9999 with the reference vector.
    @Test func matchesTheReferenceVectors() async throws {
        let directory = try #require(installedModelDirectory(), "the model is not installed: run Scripts/setup (or set TROUPE_MODEL_DIR)")
        let file = Self.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/minilm_vectors.jsonl")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        let references = try lines.map { try JSONDecoder().decode(Reference.self, from: Data($0.utf8)) }
        #expect(references.count >= 40)
        // Loaded off the cooperative pool (a 90 MB file, a 30K-word vocabulary), and run where the
        // runtime runs it: on an embedding queue, whose thread and parallel parts are not the pool's.
        let embedder = try await offThePool("troupe-test.minilm.load") { try MiniLMEmbedder(directory: directory) }
        let queue = EmbeddingQueue(embedder)
        let vectors = try await queue.embed(references.map(\.text))
        for (reference, vector) in zip(references, vectors) {
            #expect(embedder.tokens(reference.text) == reference.tokens, "\(reference.text.prefix(60))")
            let cosine = zip(reference.embedding, vector).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                / sqrt(reference.embedding.reduce(0) { $0 + Double($1) * Double($1) })
            #expect(cosine >= 0.9999, "\(reference.text.prefix(60)): cosine \(cosine)")
        }
        // Batching must not change a vector: one at a time gives the same.
        let single = try await queue.embed([references[3].text])[0]
        #expect(zip(single, vectors[3]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func missingOrCorruptFilesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = #expect(throws: TroupeError.self) { try MiniLMEmbedder(directory: dir) }
        #expect(missing?.context?.hasSuffix("vocab.txt") == true)

        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".writeUnsynced(to: dir.appendingPathComponent("vocab.txt"))
        var header = Data("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}".utf8)
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(header)
        file.append(Data(count: 8))  // 8 of the 16 data bytes: truncated
        try file.writeUnsynced(to: dir.appendingPathComponent("model.safetensors"))
        let truncated = #expect(throws: TroupeError.self) { try MiniLMEmbedder(directory: dir) }
        #expect(truncated?.message.contains("outside the file") == true)
        #expect(truncated?.context?.hasSuffix("model.safetensors") == true)

        header = Data("not json".utf8)
        file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(header)
        try file.writeUnsynced(to: dir.appendingPathComponent("model.safetensors"))
        let garbled = #expect(throws: TroupeError.self) { try MiniLMEmbedder(directory: dir) }
        #expect(garbled?.message.contains("header") == true)
    }

    @Test func wordPieceBasics() async throws {
        let directory = try #require(installedModelDirectory(), "the model is not installed: run Scripts/setup (or set TROUPE_MODEL_DIR)")
        let tokenizer = try await offThePool("troupe-test.vocabulary.load") {
            try WordPieceTokenizer(vocabularyFile: directory.appendingPathComponent("vocab.txt").path)
        }
        #expect(tokenizer.tokenStrings("Héllo, WORLD!") == ["[CLS]", "hello", ",", "world", "!", "[SEP]"])
        #expect(tokenizer.tokenStrings("中文\u{0007}x") == ["[CLS]", "中", "文", "x", "[SEP]"])
        #expect(tokenizer.tokenStrings(String(repeating: "a", count: 101)) == ["[CLS]", "[UNK]", "[SEP]"])
        let long = tokenizer.encode(String(repeating: "word ", count: 400))
        #expect(long.count == 256 && long.first == tokenizer.classification && long.last == tokenizer.separator)
    }
}
