import Foundation
import TroupeCore
import Yams

/// The runtime configuration (`Config/troupe.yaml`). Every key is optional; the defaults here are
/// the documented ones.
public struct RuntimeConfig: Sendable, Hashable {
    /// The home directory from the file (`--home` and `TROUPE_HOME` win over it).
    public var home: String?
    /// The persona directory, resolved against the config file's directory.
    public var personasDirectory: String?
    public var storage = Storage()
    public var retrieval = Retrieval()
    public var memory = MemoryPolicy()
    public var sharedSlices: [SharedSlice] = []
    public var redis = Redis()
    public var embedder = Embedder()
    public var llm = LLM()

    public init() {}

    public struct Storage: Sendable, Hashable {
        /// Where the durable truth lives: a SQLite file in the home, or a PostgreSQL server.
        public var backend = Backend.sqlite
        /// The SQLite file, relative to the home.
        public var database = "memory.sqlite"
        /// The PostgreSQL server (`backend: postgres`): `postgres://user@host:port/db`, or a unix
        /// socket (`postgres://user@%2Frun%2Fpostgresql/db`). No password in it: see `passwordEnv`.
        public var url: String?
        /// The environment variable holding the PostgreSQL password, if it needs one.
        public var passwordEnv: String?
        /// The schema of Troupe's tables on PostgreSQL (created if missing); `nil`: `public`.
        public var schema: String?
        /// Connections each process keeps to PostgreSQL.
        public var connections = 4
        /// A second store that follows this one during a live move (`sqlite:PATH` or a
        /// `postgres://` URL); the primary alone acknowledges writes.
        public var mirror: String?
        /// The mirror's schema and password variable, when it is PostgreSQL.
        public var mirrorSchema: String?
        public var mirrorPasswordEnv: String?

        public enum Backend: String, Sendable, Hashable, CaseIterable {
            case sqlite, postgres
        }
        /// How long a writer waits for another process's transaction.
        public var busyTimeout: Double = 10
        /// Records per transaction during import.
        public var importBatch = 2000
        /// The longest line import reads (bytes); a longer one is an invalid line, skipped in
        /// constant memory.
        public var maxLineBytes = 4 << 20
        /// `full` fsyncs every commit (an acknowledged write survives power loss); `normal`
        /// survives a crashed process only.
        public var synchronous = Synchronous.full
        /// Whether a home whose store does not exist yet is made encrypted (`troupe vault init`
        /// encrypts one that exists).
        public var encrypt = false
        /// Where the vault's master key comes from, when not the home's key file
        /// (vault/master.key): the variable holding it (base64), or a command that prints it
        /// (an external KMS).
        public var vaultKeyEnv: String?
        public var vaultKeyCommand: String?

        public enum Synchronous: String, Sendable, Hashable, CaseIterable {
            case full, normal
        }
    }

    public struct Retrieval: Sendable, Hashable {
        /// How components become one score: `weighted` (sum of normalised values) or `rrf`.
        public var fusion = Fusion.weighted
        /// How long recall requests wait to be scored together with others.
        public var batchWindow = 0.002
        /// 0.6 and 0.2 since BM25 counts as a share of a full match (`scales.lexical`): 0.2 of
        /// that is about 1.5 times what 0.3 of the old ceiling share gave.
        public var semanticWeight = 0.6
        public var lexicalWeight = 0.2
        public var recencyWeight = 0.1
        public var importanceWeight = 0.1
        /// Age at which the recency component is worth half.
        public var recencyHalfLife: Double = 7 * 86_400
        public var defaultLimit = 10
        /// How many lexical candidates are ranked per query.
        public var candidates = 100

        public enum Fusion: String, Sendable, Hashable, CaseIterable {
            /// A weighted sum of components in 0…1.
            case weighted
            /// Reciprocal-rank fusion.
            case rrf
        }
        /// How BM25 becomes 0…1: `full-match` (a share of what a record holding every query word
        /// once scores) or `ceiling` (a share of the most any record could score).
        public var lexicalScale = "full-match"
        /// How cosine becomes 0…1: `best` (a share of the best candidate's) or `cosine` (as is).
        public var semanticScale = "best"
        /// Leave common English function words out of the lexical query.
        public var stopwords = true
        /// How much a memory's most relevant conversation neighbour adds (0: nothing), how many
        /// neighbours on each side count, and how far apart in time one conversation's records may be.
        public var contextWeight = 0.5
        public var contextWindow = 2
        public var contextGap: Double = 3600
        /// How much a memory made at a date the query names adds (0: nothing), and how fast that
        /// falls off outside the date.
        public var dateWeight = 0.2
        public var dateHalfLife: Double = 7 * 86_400
        /// Whether the semantic and lexical weights' split follows each query's dense ranking:
        /// semantic's share of their sum is `balanceFloor` + the spread of the best
        /// `balanceDepth` cosines (as a share of the best), at most `balanceCeiling`.
        public var balanceAdaptive = true
        public var balanceFloor = 0.4
        public var balanceCeiling = 0.8
        public var balanceDepth = 10
    }

    /// A slice shared by several personas, owned by the coordinator.
    public struct SharedSlice: Sendable, Hashable {
        public typealias Policy = ConflictPolicy
        public var name: PersonaID
        public var kind: SliceKind
        public var members: [PersonaID]
        public var policy: Policy
        public var description: String

        public init(name: PersonaID, kind: SliceKind, members: [PersonaID], policy: Policy, description: String = "") {
            self.name = name
            self.kind = kind
            self.members = members
            self.policy = policy
            self.description = description
        }
    }

    public struct Redis: Sendable, Hashable {
        /// `managed` (Troupe runs a redis-server on a unix socket in the home), `off`, or
        /// `external` (use `url`).
        public var mode = Mode.managed
        public var url: String?
        /// A managed server stops by itself after this long without a client (0: never), or
        /// as soon as its home is deleted.
        public var idleStop: Double = 30 * 60

        public enum Mode: String, Sendable, Hashable, CaseIterable {
            case managed, off, external
        }
    }

    public struct Embedder: Sendable, Hashable {
        public var model = "all-minilm-l6-v2"
        /// Where the model files are; default `<home>/models/<model>`.
        public var path: String?
        /// What to use when the model is absent: `hashing` or `none`.
        public var fallback = "hashing"
    }

    public struct LLM: Sendable, Hashable {
        /// Which chat model answers: `auto` (see ``Backend``), or one named.
        public var backend = Backend.auto
        public var baseURL: String?
        public var model: String?
        /// The environment variable holding the API key; the key itself never sits in a file.
        public var apiKeyEnv: String?
        public var temperature = 0.7
        public var maxTokens = 512
        public var timeout: Double = 60

        public enum Backend: String, Sendable, Hashable, CaseIterable {
            /// `TROUPE_LLM_URL` or `base_url` when set; else an Ollama on 127.0.0.1:11434; else
            /// the embedded model when installed; else offline.
            case auto
            /// SmolLM2-135M-Instruct, run in-process.
            case embedded
            /// Any OpenAI-compatible endpoint (Ollama, llama.cpp's server, vLLM) at `base_url`.
            case openai
            /// No model: replies say so and show what was recalled.
            case offline
        }
    }
}

extension RuntimeConfig {
    /// The ranges of settings that a command-line flag can also give (the same check for both).
    public static let importBatchRange = 1...1_000_000
    public static let maxLineRange = 1024...(1 << 30)
    public static let limitRange = 1...10_000

    /// Reads `source`; problems go to its diagnostics, and every bad value keeps its default.
    /// `directory` resolves relative paths in the file.
    /// Also returns each shared slice's member names with their nodes, for the loader's check
    /// that they name real personas.
    static func read(from source: YAMLSource, directory: URL) -> (RuntimeConfig, [(PersonaID, Node)]) {
        var config = RuntimeConfig()
        var members: [(PersonaID, Node)] = []
        guard source.root != nil, let root = MappingReader.root(of: source, expecting: "a runtime configuration") else {
            return (config, members)
        }
        config.home = root.string("home").map { Self.resolve($0, against: directory) }
        config.personasDirectory = root.string("personas").map { Self.resolve($0, against: directory) }
        if let s = root.mapping("storage") { config.storage = readStorage(s, over: config.storage) }
        if let r = root.mapping("retrieval") {
            if let w = r.mapping("weights") {
                config.retrieval.semanticWeight = w.double("semantic", in: 0...1) ?? config.retrieval.semanticWeight
                config.retrieval.lexicalWeight = w.double("lexical", in: 0...1) ?? config.retrieval.lexicalWeight
                config.retrieval.recencyWeight = w.double("recency", in: 0...1) ?? config.retrieval.recencyWeight
                config.retrieval.importanceWeight = w.double("importance", in: 0...1) ?? config.retrieval.importanceWeight
                w.finish()
            }
            if case .some(.some(let h)) = r.duration("recency_half_life") { config.retrieval.recencyHalfLife = h }
            config.retrieval.defaultLimit = r.int("default_limit", in: Self.limitRange) ?? config.retrieval.defaultLimit
            config.retrieval.candidates = r.int("candidates", in: 1...100_000) ?? config.retrieval.candidates
            config.retrieval.fusion = r.choice("fusion") ?? config.retrieval.fusion
            readRecallOptions(r, into: &config.retrieval)
            if case .some(.some(let w)) = r.duration("batch_window") { config.retrieval.batchWindow = w }
            r.finish()
        }
        config.memory = MemoryPolicy.read(root.mapping("memory"), over: config.memory)
        config.sharedSlices = (root.sequence("shared_slices") ?? []).enumerated().compactMap { index, node in
            readSharedSlice(node, index: index, in: source, members: &members)
        }
        if let r = root.mapping("redis") {
            config.redis.mode = r.choice("mode") ?? config.redis.mode
            config.redis.url = r.string("url")
            if case .some(let t) = r.duration("idle_stop", allowing: ["never"]) { config.redis.idleStop = t ?? 0 }
            if config.redis.mode == .external, config.redis.url == nil {
                source.error("'redis.mode' is 'external' but 'redis.url' is not set", at: r.node)
            }
            r.finish()
        }
        if let e = root.mapping("embedder") {
            config.embedder.model = e.string("model") ?? config.embedder.model
            config.embedder.path = e.string("path").map { Self.resolve($0, against: directory) }
            config.embedder.fallback = e.choice("fallback", ["hashing", "none"]) ?? config.embedder.fallback
            e.finish()
        }
        if let l = root.mapping("llm") {
            config.llm.backend = l.choice("backend") ?? config.llm.backend
            config.llm.baseURL = l.string("base_url")
            config.llm.model = l.string("model")
            config.llm.apiKeyEnv = l.string("api_key_env")
            config.llm.temperature = l.double("temperature", in: 0...2) ?? config.llm.temperature
            config.llm.maxTokens = l.int("max_tokens", in: 1...1_000_000) ?? config.llm.maxTokens
            if case .some(.some(let t)) = l.duration("timeout") { config.llm.timeout = t }
            l.finish()
        }
        root.finish()
        return (config, members)
    }

    /// `scales`, `stopwords`, `context`, `dates` and `balance` of the `retrieval` section.
    private static func readRecallOptions(_ r: MappingReader, into retrieval: inout Retrieval) {
        if let s = r.mapping("scales") {
            retrieval.lexicalScale = s.choice("lexical", ["full-match", "ceiling"]) ?? retrieval.lexicalScale
            retrieval.semanticScale = s.choice("semantic", ["best", "cosine"]) ?? retrieval.semanticScale
            s.finish()
        }
        retrieval.stopwords = r.bool("stopwords") ?? retrieval.stopwords
        if let c = r.mapping("context") {
            retrieval.contextWeight = c.double("weight", in: 0...1) ?? retrieval.contextWeight
            retrieval.contextWindow = c.int("window", in: 1...20) ?? retrieval.contextWindow
            if case .some(.some(let g)) = c.duration("gap") { retrieval.contextGap = g }
            c.finish()
        }
        if let d = r.mapping("dates") {
            retrieval.dateWeight = d.double("weight", in: 0...1) ?? retrieval.dateWeight
            if case .some(.some(let h)) = d.duration("half_life") { retrieval.dateHalfLife = h }
            d.finish()
        }
        if let b = r.mapping("balance") {
            retrieval.balanceAdaptive = b.bool("adaptive") ?? retrieval.balanceAdaptive
            retrieval.balanceFloor = b.double("floor", in: 0...1) ?? retrieval.balanceFloor
            retrieval.balanceCeiling = b.double("ceiling", in: 0...1) ?? retrieval.balanceCeiling
            retrieval.balanceDepth = b.int("depth", in: 2...1000) ?? retrieval.balanceDepth
            if retrieval.balanceCeiling < retrieval.balanceFloor {
                r.source.error("'retrieval.balance.ceiling' (\(retrieval.balanceCeiling)) is below its floor (\(retrieval.balanceFloor))", at: b.node("ceiling") ?? b.node)
            }
            b.finish()
        }
    }

    private static func readSharedSlice(
        _ node: Node, index: Int, in source: YAMLSource, members references: inout [(PersonaID, Node)]
    ) -> SharedSlice? {
        guard let reader = MappingReader(node, in: source, path: "shared_slices[\(index)]") else { return nil }
        let name = reader.name("name", required: true)
        let kind = reader.choice("kind", SliceKind.allCases.map(\.rawValue), required: true).flatMap(SliceKind.init(rawValue:))
        let members = reader.names("members") ?? []
        references += members
        let policy = reader.choice("policy", SharedSlice.Policy.allCases.map(\.rawValue)).flatMap(SharedSlice.Policy.init(rawValue:)) ?? .keepBoth
        let description = reader.string("description") ?? ""
        reader.finish()
        guard let name, let kind else { return nil }
        return SharedSlice(name: name, kind: kind, members: members.map(\.0), policy: policy, description: description)
    }

    /// Expands `~` and resolves a relative path against `directory`.
    static func resolve(_ path: String, against directory: URL) -> String {
        if path == "~" || path.hasPrefix("~/") {
            let home = FileManager.default.homeDirectoryForCurrentUser.path
            return home + path.dropFirst()
        }
        if path.hasPrefix("/") { return path }
        return directory.appendingPathComponent(path).standardizedFileURL.path
    }
}
