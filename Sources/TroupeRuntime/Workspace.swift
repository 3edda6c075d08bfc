import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// Everything a command works with: the validated configuration, the durable store and the clock.
///
/// Opening a workspace refuses an invalid persona directory (the error names each file and line),
/// creates the home if needed and opens (migrating) the store.
public final class Workspace: Sendable {
    public let configuration: Configuration
    public let store: SQLiteStore
    public let clock: any WallClock
    /// The in-memory recall index over `store`, loaded on first recall and kept current.
    public let index: RecallIndex
    /// Which embedder runs (the configured model, or a fallback), known before it is loaded.
    public var embedderChoice: EmbedderChoice { lazyEmbedder.choice }
    let lazyEmbedder: LazyEmbedder
    let lazyHotTier = LazyHotTier()
    /// Where the hot tier's warnings go (degraded mode, and back); stderr unless set.
    let hotTierWarnings: @Sendable (String) -> Void

    public init(
        configuration: Configuration, clock: any WallClock = SystemClock(),
        warnings: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
    ) throws {
        self.configuration = configuration
        self.clock = clock
        hotTierWarnings = warnings
        let storage = configuration.runtime.storage
        let path = Self.databasePath(configuration)
        store = try SQLiteStore(
            path: path, busyTimeout: storage.busyTimeout,
            synchronous: SQLiteStore.Synchronous(rawValue: storage.synchronous) ?? .full)
        lazyEmbedder = LazyEmbedder(choice: EmbedderChoice.resolve(configuration))
        index = RecallIndex(source: store, model: lazyEmbedder.choice.modelID, dimension: 384)
    }

    /// Loads the configuration (flags, environment, working directory) and opens the store.
    public static func open(
        configFlag: String? = nil, homeFlag: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, clock: any WallClock = SystemClock()
    ) throws -> Workspace {
        let configuration = try Configuration.load(configFlag: configFlag, homeFlag: homeFlag, environment: environment)
        return try Workspace(configuration: configuration, clock: clock)
    }

    /// The SQLite file of a configuration.
    public static func databasePath(_ configuration: Configuration) -> String {
        let database = configuration.runtime.storage.database
        return database.hasPrefix("/") ? database : configuration.location.home.appendingPathComponent(database).path
    }

    public var personas: [PersonaDefinition] { configuration.personas }

    /// The persona named `name`, or a not-found error listing the known ones.
    public func persona(_ name: String) throws -> PersonaDefinition {
        if let persona = configuration.persona(name) { return persona }
        let names = personas.map(\.name.rawValue)
        var message = "unknown persona '\(name)'"
        if let guess = Suggestion.closest(to: name, in: names) { message += " (did you mean '\(guess)'?)" }
        message += names.isEmpty ? "; no personas are defined in \(DisplayPath.of(configuration.location.personasDirectory))"
            : "; known personas: \(names.joined(separator: ", "))"
        throw TroupeError(.notFound, message)
    }

    /// A persona or shared slice by name: an owner of records.
    public func owner(_ name: String) throws -> PersonaID {
        if let id = PersonaID(rawValue: name), knownOwners.contains(id) { return id }
        return try persona(name).name
    }

    /// A persona's own name and the shared slices it belongs to: whose memory it may read (the
    /// same as its ``PersonaActor/readableOwners``).
    public func readableOwners(of persona: PersonaDefinition) -> [PersonaID] {
        [persona.name] + configuration.runtime.sharedSlices.filter { $0.members.contains(persona.name) }.map(\.name).sorted()
    }

    /// Every owner a record may have: personas and shared slices.
    public var knownOwners: Set<PersonaID> {
        Set(personas.map(\.name) + configuration.runtime.sharedSlices.map(\.name))
    }

    /// Loads each persona's procedural seeds that are not in the store yet. Idempotent: seeds
    /// have stable ids, so a second call writes nothing. Returns how many were written.
    @discardableResult
    public func seedProceduralMemory(for only: PersonaDefinition? = nil) async throws -> Int {
        try await ProceduralSeeds.load(only.map { [$0] } ?? personas, store: store, embedder: embedder, at: clock.now())
    }

    /// The score weights of `retrieval:` in the runtime config.
    public var recallWeights: RecallWeights {
        let r = configuration.runtime.retrieval
        return RecallWeights(
            semantic: r.semanticWeight, lexical: r.lexicalWeight, recency: r.recencyWeight, importance: r.importanceWeight,
            recencyHalfLife: r.recencyHalfLife)
    }

    /// The recaller configured by `retrieval:` in the runtime config (loads the embedder).
    public func recaller() throws -> Recaller {
        let r = configuration.runtime.retrieval
        return Recaller(
            store: store, index: index, embedder: try embedder(), weights: recallWeights,
            fusion: RecallFusion(rawValue: r.fusion) ?? .weighted, clock: clock, candidates: r.candidates, options: RecallOptions(r))
    }

    /// A batcher over `recaller()` with the configured window (`retrieval.batch_window`).
    public func recallBatcher() throws -> RecallBatcher {
        RecallBatcher(recaller: try recaller(), window: .microseconds(Int64(configuration.runtime.retrieval.batchWindow * 1_000_000)))
    }

    /// The coordinator of this workspace's personas and shared slices. Its hot tier is made
    /// (and a managed redis-server started) only when something uses it. `embedding: false`
    /// stores writes without vectors (benchmarks that time writes, not the model).
    public func coordinator(embedding: Bool = true) throws -> Coordinator {
        let r = configuration.runtime.retrieval
        _ = try redisEndpoint()  // a malformed redis.url is an error now, not a silent SQLite-only run
        let lazyEmbedder = lazyEmbedder, lazyHotTier = lazyHotTier
        var embedder: @Sendable () throws -> (any Embedder)? = { try lazyEmbedder.get() }
        if !embedding { embedder = { nil } }
        return Coordinator(
            personas: personas, sharedSlices: configuration.runtime.sharedSlices, store: store,
            embedder: embedder, recaller: { [self] in try recaller() },
            batchWindow: .microseconds(Int64(r.batchWindow * 1_000_000)), clock: clock, defaultLimit: r.defaultLimit,
            hotTier: lazyHotTier.made(self), modelID: embedderChoice.modelID, defaultMemory: configuration.runtime.memory)
    }

    /// An importer for `file` into this workspace's store.
    public func importer(defaultOwner: String?, skipInvalid: Bool = false, dryRun: Bool = false, batchSize: Int? = nil) throws -> MemoryImporter {
        let owner = try defaultOwner.map(self.owner)
        let options = MemoryImporter.Options(
            skipInvalid: skipInvalid, dryRun: dryRun, batchSize: batchSize ?? configuration.runtime.storage.importBatch)
        let context = MemoryLine.Context(defaultOwner: owner, knownOwners: knownOwners, now: clock.now())
        return MemoryImporter(store: store, context: context, options: options)
    }
}
