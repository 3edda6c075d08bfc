import Foundation
import Logging
import ServiceLifecycle
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// The long-lived owner of a home: exactly one store, one recall index, the embedder, the hot
/// tier and one ``Coordinator``, which hands out ``PersonaActor``s.
///
/// Every command of the CLI goes through a runtime, and so does every long-lived owner (a REPL,
/// a scripted session, a server), which runs it as a swift-service-lifecycle `Service`:
/// ``run()`` keeps the hot tier and the recall index caught up with the store's change feed and
/// watches the persona files, takes on queued memory formation whose holder's lease ran out
/// (``resumeFormation()``), and on cancellation or SIGINT/SIGTERM it shuts down cleanly (see
/// ``shutdown()``). Ids and time come from the injected generator and clock, so a seeded run
/// is reproducible.
public final class Runtime: Service, Sendable {
    /// The configuration the runtime was opened with (personas as they were then; see
    /// ``personas`` for those in force now).
    public let configuration: Configuration
    public let clock: any WallClock
    public let ids: any IDGenerator
    package let store: any MemoryStore
    /// The store again when it is a local file (a scripted session copies it); `nil` on a server.
    package let fileStore: (any FileStore)?
    /// The store that follows this one during a live move (`storage.mirror`), if any.
    let mirrorLink: MirrorLink?
    package let index: RecallIndex
    package let writes: MemoryWrites
    package let registry: PersonaRegistry
    public let coordinator: Coordinator
    package let logger: Logger
    let embedding: LazyEmbedding
    let lazyHotTier: LazyHotTier
    let watch: DefinitionWatch
    /// Chat backends, chosen and made on first use.
    let chat = ChatBackends()
    /// Belief graphs built, kept while the store has not changed.
    let graphs = BeliefGraphCache()
    /// Memory formation after replies, written down in the store so that none is lost.
    public let formation: FormationQueue
    private let closed = LockedFlag()
    /// Each look at other writers' commits while someone follows the events (Runtime+Events.swift).
    package let otherWritersLooks = LookCount()

    /// Opens the home of `configuration`: creates it if needed and opens (migrating) the store.
    /// Nothing else starts until it is used: the embedder loads on the first embedding, the hot
    /// tier (and a managed redis-server) on its first use. `embedsWrites: false` stores writes
    /// without vectors (benchmarks that time writes, not the model).
    public init(
        configuration: Configuration, clock: any WallClock = SystemClock(), ids: any IDGenerator = RandomIDs(),
        logger: Logger = Logger(label: "troupe"), embedsWrites: Bool = true
    ) throws {
        BLASThreads.configure()
        self.configuration = configuration
        self.clock = clock
        self.ids = ids
        self.logger = logger
        let runtime = configuration.runtime
        // A malformed redis.url is an error now, not a silent SQLite-only run.
        let endpoint = try Self.redisEndpoint(configuration)
        try HomeDirectory.prepare(configuration.location.home)
        let opened = try Self.openStore(configuration)
        (store, fileStore) = (opened, opened as? any FileStore)
        mirrorLink = Self.mirrorLink(configuration, primary: store)
        let embedding = LazyEmbedding(choice: EmbedderChoice.resolve(configuration))
        self.embedding = embedding
        index = RecallIndex(source: store, model: embedding.choice.modelID, dimension: 384)
        registry = PersonaRegistry(personas: configuration.personas, sharedSlices: runtime.sharedSlices)
        let (store, index, registry) = (store, index, registry)
        lazyHotTier = LazyHotTier { [logger] in
            try endpoint.map { try Self.makeHotTier(configuration, endpoint: $0, store: store, registry: registry, clock: clock, logger: logger) }
        }
        let hotTier = lazyHotTier
        writes = MemoryWrites(
            store: store, index: index, embedding: { embedsWrites ? try await embedding.queue() : nil }, hot: { await hotTier.made() },
            clock: clock, ids: ids)
        let r = runtime.retrieval
        let weights = Self.recallWeights(runtime)
        coordinator = Coordinator(
            registry: registry, writes: writes,
            recaller: {
                Recaller(
                    store: store, index: index, embedding: try await embedding.queue(), weights: weights,
                    fusion: r.fusion == .rrf ? .reciprocalRank : .weighted, clock: clock, candidates: r.candidates,
                    options: RecallOptions(r))
            },
            batchWindow: .microseconds(Int64(r.batchWindow * 1_000_000)), defaultLimit: r.defaultLimit,
            modelID: embedding.choice.modelID, defaultMemory: runtime.memory)
        watch = DefinitionWatch(configuration: configuration)
        formation = FormationQueue(home: configuration.location.home, store: store, clock: clock, logger: logger)
    }

    /// Opens the home of `configuration` as ``init(configuration:clock:ids:logger:embedsWrites:)``
    /// does, on a thread of its own: opening a store may wait for a file lock, a busy database
    /// or a server that does not answer, which async callers must not do on the cooperative pool.
    public static func opened(
        configuration: Configuration, clock: any WallClock = SystemClock(), ids: any IDGenerator = RandomIDs(),
        logger: Logger = Logger(label: "troupe"), embedsWrites: Bool = true
    ) async throws -> Runtime {
        try await offThePool("troupe.store.open") {
            try Runtime(configuration: configuration, clock: clock, ids: ids, logger: logger, embedsWrites: embedsWrites)
        }
    }

    /// Loads the configuration (flags, environment, working directory) and opens the runtime,
    /// off the cooperative pool (see ``opened(configuration:clock:ids:logger:embedsWrites:)``).
    public static func open(
        configFlag: String? = nil, homeFlag: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, clock: any WallClock = SystemClock(),
        ids: any IDGenerator = RandomIDs(), logger: Logger = Logger(label: "troupe")
    ) async throws -> Runtime {
        try await offThePool("troupe.store.open") {
            try open(configFlag: configFlag, homeFlag: homeFlag, environment: environment, clock: clock, ids: ids, logger: logger)
        }
    }

    /// Loads the configuration (flags, environment, working directory) and opens the runtime.
    public static func open(
        configFlag: String? = nil, homeFlag: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, clock: any WallClock = SystemClock(),
        ids: any IDGenerator = RandomIDs(), logger: Logger = Logger(label: "troupe")
    ) throws -> Runtime {
        let configuration = try Configuration.load(configFlag: configFlag, homeFlag: homeFlag, environment: environment)
        return try Runtime(configuration: configuration, clock: clock, ids: ids, logger: logger)
    }

    /// The SQLite file of a configuration.
    public static func databasePath(_ configuration: Configuration) -> String {
        let database = configuration.runtime.storage.database
        return database.hasPrefix("/") ? database : configuration.location.home.appendingPathComponent(database).path
    }

    /// Loads each persona's procedural seeds that are not in the store yet (idempotent: seeds
    /// have stable ids, so a second call writes nothing). Returns how many were written.
    @discardableResult
    public func seedProceduralMemory(for only: PersonaDefinition? = nil) async throws -> Int {
        try await ProceduralSeeds.load(only.map { [$0] } ?? personas, through: writes)
    }

    /// The actor of persona `name`: what a command with `--persona` acts as.
    public func persona(_ name: String) async throws -> PersonaActor { try await coordinator.persona(name) }

    // MARK: Service

    /// Runs until cancelled or until a graceful shutdown (SIGINT/SIGTERM in a `ServiceGroup`):
    /// catches the recall index and the hot tier up with the change feed now and then (writes
    /// by other processes, and by one that died before writing them through), and puts changed
    /// persona files in force; takes on queued memory formation that another process left (it
    /// ended, and its lease ran out); summarises quiet conversations and decays memory (``consolidate(_:quiet:model:)``, ``decay(_:)``).
    /// Then shuts down.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                group.addTask { await self.keepIndexCurrent() }
                group.addTask { await self.keepHotTierCurrent() }
                group.addTask { await self.watchDefinitions() }
                group.addTask { await self.keepMirrorCurrent() }
                group.addTask { await self.keepFormationResumed() }
                group.addTask { await self.tellOtherWritersCommits() }
                group.addTask { await self.keepConsolidating() }
            }
        }
        await shutdown()
    }

    /// Waits for shared writes under way to commit, then stops the hot tier's background work
    /// and closes its Redis connection and thread. Everything acknowledged was committed before
    /// it was acknowledged, so nothing is lost. Safe to call more than once.
    public func shutdown() async {
        guard closed.set() else { return }
        // In a task of its own: shutdown often runs in a cancelled one (after `run()`), where
        // waits end at once and the stores' reads stop.
        await Task {
            // Facts being formed get a moment to land; the rest stay queued, those not started
            // handed back for the next process to take at once.
            await formation.drain(timeout: .seconds(10))
            await formation.close()
            await coordinator.drain()
            // What this process wrote reaches the mirror before it goes (or the next one sends it).
            await catchUpMirror()
            if let tier = lazyHotTier.existing { await tier.close() }
            // The WAL emptied here, off the pool: the store's close, wherever it comes, then has
            // nothing to copy or fsync (seen blocking a pool thread for 7.5 s on a busy disk).
            if let fileStore { _ = try? await offThePool("troupe.store.settle") { fileStore.settleBeforeClose() } }
        }.value
    }

    /// Catches the index up every second, and on PostgreSQL also as soon as another process's
    /// commit is announced on the store's channel (the hot tier then too).
    private func keepIndexCurrent() async {
        let listener = (store as? any ChangeAnnouncingStore)?.changeListener()
        defer { listener?.stop() }
        var seen: Int64 = 0
        while !Task.isCancelled {
            if let listener {
                let latest = await withTaskCancellationHandler { await listener.next(after: seen) } onCancel: { listener.stop() }
                if latest > seen, let tier = lazyHotTier.existing { await tier.catchUpNow() }
                seen = latest
            } else {
                try? await Task.sleep(for: .seconds(1))
            }
            do { try await index.catchUp() } catch { logger.warning("the recall index could not catch up: \(error)") }
        }
    }

    private func keepMirrorCurrent() async {
        guard mirrorLink != nil else { return }
        while !Task.isCancelled {
            // Cancelled, it stops here: shutdown catches the mirror up for the last time.
            guard (try? await Task.sleep(for: .milliseconds(500))) != nil else { return }
            // Looked at first, so that what the catch-up is about to send is seen waiting.
            await mirrorLag()
            await catchUpMirror()
        }
    }

    private func keepFormationResumed() async {
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: formation.lease.sweep)) != nil else { return }
            await formation.resume(runtime: self)
        }
    }

    private func keepHotTierCurrent() async {
        guard let tier = await lazyHotTier.made() else { return }
        await tier.run()
    }
}

/// A flag that is set once.
final class LockedFlag: Sendable {
    private let value = LockedBox(false)

    /// Sets the flag; `false` if it was set already.
    func set() -> Bool {
        value.withLock { value in
            defer { value = true }
            return !value
        }
    }
}
