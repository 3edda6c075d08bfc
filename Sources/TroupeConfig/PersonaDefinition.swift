import Foundation
import TroupeCore
import Yams

/// A persona as defined by one YAML file in `Personas/`.
public struct PersonaDefinition: Sendable, Hashable {
    public var name: PersonaID
    public var displayName: String
    public var role: String
    public var description: String
    public var systemPrompt: String
    public var traits: [String]
    /// 0…100; a higher priority wins conflicting writes under the `priority` policy.
    public var priority: Int
    public var memory: MemoryPolicy
    public var procedural: [ProceduralSeed]
    /// The shared slices this persona belongs to.
    public var shared: [PersonaID]
    public var llm: LLMOverrides
    /// The file it was read from, as shown in messages.
    public var file: String

    public init(
        name: PersonaID, displayName: String? = nil, role: String = "", description: String = "", systemPrompt: String = "",
        traits: [String] = [], priority: Int = 50, memory: MemoryPolicy = MemoryPolicy(), procedural: [ProceduralSeed] = [],
        shared: [PersonaID] = [], llm: LLMOverrides = LLMOverrides(), file: String = ""
    ) {
        self.name = name
        self.displayName = displayName ?? name.rawValue
        self.role = role
        self.description = description
        self.systemPrompt = systemPrompt
        self.traits = traits
        self.priority = priority
        self.memory = memory
        self.procedural = procedural
        self.shared = shared
        self.llm = llm
        self.file = file
    }

    /// A rule or skill loaded into procedural memory once.
    public struct ProceduralSeed: Sendable, Hashable {
        public enum Kind: String, Sendable, CaseIterable { case rule, skill }
        public var kind: Kind
        public var text: String
        public var importance: Double
        public var tags: [String]

        public init(kind: Kind, text: String, importance: Double = 0.8, tags: [String] = []) {
            self.kind = kind
            self.text = text
            self.importance = importance
            self.tags = tags
        }
    }

    /// Per-persona settings for the chat backend.
    public struct LLMOverrides: Sendable, Hashable {
        public var model: String?
        public var temperature: Double?
        public var maxTokens: Int?
        public var baseURL: String?

        public init(model: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil, baseURL: String? = nil) {
            self.model = model
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.baseURL = baseURL
        }
    }
}

extension PersonaDefinition {
    /// Reads a persona from `source`, reporting problems there. `nil` when a required part is
    /// missing or wrong. Cross-file checks (duplicates, shared slices) are the loader's.
    /// Also returns the name's node and each shared-slice reference's node, for cross-file checks.
    static func read(
        from source: YAMLSource, defaults: MemoryPolicy, fileStem: String?
    ) -> (definition: PersonaDefinition?, name: PersonaID?, nameNode: Node?, shared: [(PersonaID, Node)])? {
        guard let root = MappingReader.root(of: source, expecting: "a persona definition") else { return nil }
        let nameNode = root.node("name")
        let name = root.name("name", required: true)
        let displayName = root.string("display_name", required: true)
        let role = root.string("role", required: true)
        let description = root.string("description", required: true)
        let systemPrompt = root.string("system_prompt", required: true)
        let traits = root.strings("traits") ?? []
        let priority = root.int("priority", in: 0...100) ?? 50
        let memory = MemoryPolicy.read(root.mapping("memory"), over: defaults)
        let procedural = (root.sequence("procedural") ?? []).enumerated().compactMap { index, node in
            readSeed(node, index: index, in: source)
        }
        let sharedRefs = root.names("shared") ?? []
        let shared = sharedRefs.map(\.0)
        var llm = LLMOverrides()
        if let reader = root.mapping("llm") {
            llm.model = reader.string("model")
            llm.temperature = reader.double("temperature", in: 0...2)
            llm.maxTokens = reader.int("max_tokens", in: 1...1_000_000)
            llm.baseURL = reader.string("base_url")
            reader.finish()
        }
        root.finish()

        if let name, let fileStem, name.rawValue != fileStem {
            source.error("persona '\(name)' is in a file named '\(fileStem)'; name the file '\(name).yaml'", at: nameNode, severity: .warning)
        }
        guard let name, let displayName, let role, let description, let systemPrompt else {
            // Still hand back what was read, so cross-file checks report their problems too.
            return (nil, name, nameNode, sharedRefs)
        }
        let definition = PersonaDefinition(
            name: name, displayName: displayName, role: role,
            description: description.trimmingCharacters(in: .whitespacesAndNewlines),
            systemPrompt: systemPrompt.trimmingCharacters(in: .whitespacesAndNewlines), traits: traits,
            priority: priority, memory: memory, procedural: procedural, shared: shared, llm: llm,
            file: source.displayPath)
        return (definition, name, nameNode, sharedRefs)
    }

    private static func readSeed(_ node: Node, index: Int, in source: YAMLSource) -> ProceduralSeed? {
        guard let reader = MappingReader(node, in: source, path: "procedural[\(index)]") else { return nil }
        let kind = reader.choice("kind", ProceduralSeed.Kind.allCases.map(\.rawValue)).flatMap(ProceduralSeed.Kind.init) ?? .rule
        let text = reader.string("text", required: true)
        let importance = reader.double("importance", in: 0...1) ?? 0.8
        let tags = reader.strings("tags") ?? []
        reader.finish()
        guard let text else { return nil }
        return ProceduralSeed(kind: kind, text: text.trimmingCharacters(in: .whitespacesAndNewlines), importance: importance, tags: tags)
    }

    /// The id of a seed's record: stable, so seeding twice writes nothing the second time.
    public func seedID(_ seed: ProceduralSeed) -> String {
        MemoryRecord.stableID(owner: name, slice: .procedural, content: "seed:\(seed.kind.rawValue):\(seed.text)", createdAt: nil)
    }
}
