import Foundation
import TroupeConfig
import TroupeCore
import TroupeRedis
import TroupeRetrieval
import TroupeRuntime
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// A directory removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    // Safe: immutable after init.
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Removed in the background (``DirectoryRemoval``): the last release happens in a test's
    /// task, on the cooperative pool.
    deinit { DirectoryRemoval.remove(url) }
}

/// A coordinator over a real SQLite file, with eight personas and one shared slice per policy.
struct Team: Sendable {
    let directory: TemporaryDirectory
    let store: any MemoryStore
    let coordinator: Coordinator
    let personas: [PersonaDefinition]
    /// The Redis hot tier, when the team was made with a Redis endpoint.
    let hot: HotTier?

    /// p0…p7 with priorities 10, 20, 30, 40, 40, 60, 70, 80 (p3 and p4 tie). One semantic shared
    /// slice per policy with all eight as members, and `inner` (procedural, last writer wins) of
    /// p0 and p1 only.
    static let names: [PersonaID] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"]
    static let priorities = [10, 20, 30, 40, 40, 60, 70, 80]
    static let slices: [(PersonaID, ConflictPolicy)] = [
        ("lww", .lastWriterWins), ("prio", .priority), ("both", .keepBoth), ("reject", .reject),
    ]

    /// With `redis`, the coordinator has a hot tier there (and its warnings go to `warn`);
    /// `memory` is every persona's memory policy. The store is opened off the cooperative pool.
    init(
        clock: any WallClock = SystemClock(), redis: RedisClient? = nil, memory: MemoryPolicy = MemoryPolicy(),
        warn: @escaping @Sendable (String) -> Void = { _ in }, restart: (@Sendable () throws -> Void)? = nil,
        on backend: RuntimeConfig.Storage.Backend = .sqlite
    ) async throws {
        directory = try TemporaryDirectory()
        switch backend {
        case .sqlite: store = try await TestSQLite.open(directory.url.appendingPathComponent("memory.sqlite").path)
        case .postgres: store = try await TestPostgres.freshStore()
        }
        personas = zip(Self.names, Self.priorities).map { name, priority in
            PersonaDefinition(
                name: name, priority: priority, memory: memory,
                procedural: [.init(kind: .rule, text: "Rule of \(name): write things down.")])
        }
        var shared = Self.slices.map { RuntimeConfig.SharedSlice(name: $0.0, kind: .semantic, members: Self.names, policy: $0.1) }
        shared.append(RuntimeConfig.SharedSlice(name: "inner", kind: .procedural, members: ["p0", "p1"], policy: .lastWriterWins))
        let embedder = HashingEmbedder()
        let index = RecallIndex(source: store, model: embedder.modelID, dimension: embedder.dimension)
        let recaller = Recaller(store: store, index: index, embedder: embedder, weights: RecallWeights(), clock: clock)
        let policy = HotTier.Policy(workingTTL: memory.workingTTL, episodicHotTTL: memory.episodicHotTTL)
        let (home, store) = (directory.url, store)
        let tier = redis.map { HotTier(client: $0, home: home, store: store, clock: clock, defaultPolicy: policy, warn: warn, restart: restart) }
        hot = tier
        let queue = EmbeddingQueue(embedder)
        let writes = MemoryWrites(store: store, index: index, embedding: { queue }, hot: { tier }, clock: clock, ids: RandomIDs())
        coordinator = Coordinator(
            registry: PersonaRegistry(personas: personas, sharedSlices: shared), writes: writes, recaller: { recaller },
            modelID: embedder.modelID, defaultMemory: memory)
    }

    func persona(_ name: PersonaID) async throws -> PersonaActor { try await coordinator.persona(name.rawValue) }

    func priority(of name: String) -> Int { personas.first { $0.name.rawValue == name }?.priority ?? 0 }
}
