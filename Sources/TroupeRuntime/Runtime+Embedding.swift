import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// Which embedder a configuration gets, decided from the files present, before any is loaded.
public enum EmbedderChoice: Sendable, Hashable {
    /// The configured model, from its directory.
    case model(id: String, directory: URL)
    /// The hashing fallback, because the model is missing (the reason says where it was looked for).
    case hashing(reason: String)
    /// No embedder (`fallback: none` and no model): recall is lexical.
    case none(reason: String)

    /// The id of the vectors this choice produces.
    public var modelID: String? {
        switch self {
        case .model(let id, _): id
        case .hashing: HashingEmbedder().modelID
        case .none: nil
        }
    }

    /// A warning for people when the configured model is not what runs.
    public var warning: String? {
        switch self {
        case .model: nil
        case .hashing(let reason): "\(reason); using the hashing fallback (word overlap only). Run Scripts/setup to install the model."
        case .none(let reason): "\(reason); recall is lexical only. Run Scripts/setup to install the model."
        }
    }

    static func resolve(_ configuration: Configuration) -> EmbedderChoice {
        let embedder = configuration.runtime.embedder
        let (found, looked) = modelDirectory(configuration.runtime, home: configuration.location.home)
        if let found { return .model(id: embedder.model, directory: found) }
        let reason = "embedding model \(embedder.model) is not installed at \(looked.map { DisplayPath.of($0) }.joined(separator: " or "))"
        return embedder.fallback == "hashing" ? .hashing(reason: reason) : .none(reason: reason)
    }

    /// The files an embedding model needs.
    static let modelFiles = ["model.safetensors", "vocab.txt"]

    /// Where the model is: `embedder.path` if set, else `<home>/models/<model>`, else the
    /// user-wide `~/.troupe/models/<model>` that Scripts/setup fills (so a fresh home, such as
    /// the demo's, finds it). Returns the directory found and every directory looked at.
    static func modelDirectory(_ runtime: RuntimeConfig, home: URL) -> (found: URL?, looked: [URL]) {
        let model = runtime.embedder.model
        var candidates = [home.appendingPathComponent("models").appendingPathComponent(model)]
        if let path = runtime.embedder.path {
            candidates = [URL(fileURLWithPath: path)]
        } else {
            let user = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            let shared = URL(fileURLWithPath: user).appendingPathComponent(".troupe/models").appendingPathComponent(model)
            if shared.standardizedFileURL != candidates[0].standardizedFileURL { candidates.append(shared) }
        }
        let found = candidates.first { directory in
            modelFiles.allSatisfy { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        }
        return (found, candidates)
    }
}

/// The embedder, loaded on first use (a model load maps 90 MB and reads a 30K-word vocabulary,
/// which commands that never embed should not pay for), once, on a thread of its own; callers
/// that arrive meanwhile wait for it. The embedder then runs behind its own thread too.
final class LazyEmbedding: Sendable {
    let choice: EmbedderChoice
    private let loaded: MadeOnce<EmbeddingQueue?>

    init(choice: EmbedderChoice) {
        self.choice = choice
        loaded = MadeOnce("troupe.embedder.load") {
            switch choice {
            case .model(let id, let directory): return EmbeddingQueue(try MiniLMEmbedder(directory: directory, modelID: id))
            case .hashing: return EmbeddingQueue(HashingEmbedder())
            case .none: return nil
            }
        }
    }

    func queue() async throws -> EmbeddingQueue? { try await loaded.value() }
}

extension Runtime {
    /// Which embedder runs (the configured model, or a fallback), known before it is loaded.
    public var embedderChoice: EmbedderChoice { embedding.choice }

    /// The embedder writes and recalls use, loading it if needed; `nil` when there is none.
    public func embedder() async throws -> EmbeddingQueue? { try await embedding.queue() }

    /// A backfill of the vectors missing for the configured model (after an import without
    /// embedding, or a model change), through the write path; resumable. `nil` without an
    /// embedder.
    public func backfillVectors() async throws -> VectorBackfill? {
        guard let queue = try await embedder() else { return nil }
        let writes = writes
        return VectorBackfill(store: store, embedding: queue, stored: { await writes.vectorsStored($0) })
    }
}
