import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeStore

/// The recall cache's rules: what is cached, under which key, for how long, and in what form.
extension Coordinator {
    /// Recalls confined to semantic and procedural slices, whose answers change only when
    /// someone writes there (working and episodic memory move on their own).
    static func cacheable(_ request: RecallRequest) -> Bool {
        guard let slices = request.slices, !slices.isEmpty else { return false }
        return slices.allSatisfy { $0 == .semantic || $0 == .procedural }
    }

    /// The query, the model, the limit and tag, and every searched slice's version: a write
    /// to any of them (by any process) makes a new key, so a cached answer is never stale.
    nonisolated func cacheKey(_ request: RecallRequest, versions: [String: Int64]) -> String {
        var text = "recall-v1|\(modelID ?? "lexical")|\(request.limit)|\(request.tag ?? "")|"
        text += versions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        text += "|" + request.query
        return SHA256.hex(of: Array(text.utf8))
    }

    /// The shortest cache TTL among the searched owners' slices (persona YAML, else config).
    nonisolated func cacheTTL(_ request: RecallRequest) -> Double {
        let ttls = request.owners.flatMap { owner -> [Double] in
            let policy = registry.persona(owner)?.memory ?? defaultMemory
            return (request.slices ?? []).map { $0 == .procedural ? policy.proceduralCacheTTL : policy.semanticCacheTTL }
        }
        return ttls.min() ?? defaultMemory.semanticCacheTTL
    }

    /// A cached answer: the ranked ids with their scores and components (records are read
    /// from SQLite at each hit, so a forgotten one never comes back).
    struct CachedHit {
        var id: String
        var score: Double
        var components: [ScoreComponent]
    }

    static func encodeCached(_ hits: [RecallHit]) -> [UInt8] {
        Array(JSONValue.array(hits.map { hit in
            .object([
                "id": .string(hit.record.id), "score": .number(hit.score),
                "components": .array(hit.components.map { c in
                    .array([
                        .string(c.name), .number(c.raw), .number(c.value), .number(c.weight),
                        c.source.map(JSONValue.string) ?? .null, c.spread.map(JSONValue.number) ?? .null,
                    ])
                }),
            ])
        }).canonicalText.utf8)
    }

    static func decodeCached(_ bytes: [UInt8]) -> [CachedHit]? {
        guard case .array(let items) = try? JSONValue.parse(bytes) else { return nil }
        var hits: [CachedHit] = []
        for item in items {
            guard case .object(let o) = item, case .string(let id) = o["id"], case .number(let score) = o["score"],
                case .array(let parts) = o["components"]
            else { return nil }
            var components: [ScoreComponent] = []
            for part in parts {
                // Six fields (name, raw, value, weight, source, spread); four in entries of older builds.
                guard case .array(let f) = part, f.count == 4 || f.count == 6, case .string(let name) = f[0],
                    case .number(let raw) = f[1], case .number(let value) = f[2], case .number(let weight) = f[3]
                else { return nil }
                var component = ScoreComponent(name: name, raw: raw, value: value, weight: weight)
                if f.count == 6 {
                    if case .string(let source) = f[4] { component.source = source }
                    if case .number(let spread) = f[5] { component.spread = spread }
                }
                components.append(component)
            }
            hits.append(CachedHit(id: id, score: score, components: components))
        }
        return hits
    }
}
