import TroupeCore

/// How long memory stays hot and how much is kept, per slice. Runtime config sets the defaults;
/// a persona's YAML may override any of them.
public struct MemoryPolicy: Sendable, Hashable {
    /// Working memory: seconds an item stays hot after its last use.
    public var workingTTL: Double = 3600
    /// Working memory: how many items are kept hot at most.
    public var workingCapacity: Int = 50
    /// Episodic memory: seconds recent items stay in the hot tier.
    public var episodicHotTTL: Double = 86_400
    /// Episodic memory: seconds items are retained; `nil` keeps them forever.
    public var episodicRetention: Double? = nil
    /// Semantic memory: seconds a recall result is cached.
    public var semanticCacheTTL: Double = 300
    /// Procedural memory: seconds a recall result is cached.
    public var proceduralCacheTTL: Double = 300
    /// Whether facts form from what a persona says (text a model generated): `grounded` only
    /// when what a person said supports them.
    public var formationFromReplies: ReplyFormation = .grounded

    /// Forming facts from a persona's (a model's) words: never, only when grounded in what a
    /// person said, or always.
    public enum ReplyFormation: String, Sendable, Hashable, CaseIterable {
        case off, grounded, all
    }

    public init() {}

    /// Reads the `memory:` mapping of a persona or of the runtime config over `defaults`.
    static func read(_ reader: MappingReader?, over defaults: MemoryPolicy) -> MemoryPolicy {
        var policy = defaults
        guard let reader else { return policy }
        if let working = reader.mapping("working") {
            if case .some(.some(let ttl)) = working.duration("ttl") { policy.workingTTL = ttl }
            if let capacity = working.int("capacity", in: 1...100_000) { policy.workingCapacity = capacity }
            working.finish()
        }
        if let episodic = reader.mapping("episodic") {
            if case .some(.some(let ttl)) = episodic.duration("hot_ttl") { policy.episodicHotTTL = ttl }
            if case .some(let retention) = episodic.duration("retention", allowing: ["forever"]) {
                policy.episodicRetention = retention
            }
            episodic.finish()
        }
        if let semantic = reader.mapping("semantic") {
            if case .some(.some(let ttl)) = semantic.duration("cache_ttl") { policy.semanticCacheTTL = ttl }
            semantic.finish()
        }
        if let procedural = reader.mapping("procedural") {
            if case .some(.some(let ttl)) = procedural.duration("cache_ttl") { policy.proceduralCacheTTL = ttl }
            procedural.finish()
        }
        if let formation = reader.mapping("formation") {
            if let replies = formation.choice("from_replies", as: ReplyFormation.self) { policy.formationFromReplies = replies }
            formation.finish()
        }
        reader.finish()
        return policy
    }
}
