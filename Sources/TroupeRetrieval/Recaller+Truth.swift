import Foundation
import TroupeCore
import TroupeStore

/// The parts of ranking that put the truth first: the relevance floor, trust, and the discount
/// of memories that repeat a superseded value.
extension Recaller {
    /// The candidates a recall that weighs trust and superseded values ranks before it reads
    /// their records: discounts lower the best `limit`, so a record just below them may rise
    /// into them; one that needs more than `limit + 10` places does not.
    static func pool(_ limit: Int) -> Int { limit * 2 + 10 }

    /// Whether a candidate answers the query by itself (see ``RelevanceFloor``).
    static func isRelevant(_ c: IndexCandidate, _ floor: RelevanceFloor) -> Bool {
        if c.bm25 > 0 || floor.exempt.contains(c.slice) { return true }
        guard let cosine = c.cosine else { return false }
        return cosine > floor.threshold(typical: c.typicalCosine, deviation: c.cosineDeviation)
    }

    /// The candidates that are relevant by themselves. A neighbour's relevance (the `context`
    /// component) still lifts a relevant candidate, but does not make an irrelevant one relevant:
    /// the unrelated facts and turns made just after a relevant one are its neighbours too.
    func keepingRelevant(_ ranked: [Ranked], _ floor: RelevanceFloor) -> [Ranked] {
        ranked.filter { Self.isRelevant($0.candidate, floor) }
    }

    /// Adds `trust` and `superseded` to a pool of hits and keeps the best `limit`.
    func weighed(_ pool: [RecallHit], limit: Int) async throws -> [RecallHit] {
        var hits = pool
        if let trust = options.trust, trust.weight > 0 {
            for i in hits.indices {
                guard let rank = trust.rank(hits[i].record.metadata) else { continue }
                let value = trust.value(rank: rank) * Self.relevance(of: hits[i])
                let part = ScoreComponent(name: "trust", raw: Double(rank), value: value, weight: trust.weight)
                hits[i].components.append(part)
                hits[i].score += part.contribution
            }
        }
        if options.discountsSuperseded { hits = try await discountingSuperseded(hits) }
        return Array(hits.sorted { ($0.score, $1.record.id) > ($1.score, $0.record.id) }.prefix(limit))
    }

    /// What a hit's likeness to the query gives it: its semantic, lexical and context
    /// contributions (not the priors — recency, importance, dates — nor the discounts).
    package static func relevance(of hit: RecallHit) -> Double {
        hit.components.reduce(0.0) { total, c in ["semantic", "lexical", "context"].contains(c.name) ? total + c.contribution : total }
    }

    /// What a superseded version said that the current one does not, in content words (stemmed,
    /// without function words): a memory that holds all of `said`, shares a word of the topic
    /// the two versions have in common, and does not also hold the whole of the new value
    /// repeats the superseded version.
    package struct SupersededValue: Sendable, Hashable {
        /// The current record, and the version of it that said the old value.
        package var current: String
        package var version: Int
        package var said: Set<String>
        package var topic: Set<String>
        package var fresh: Set<String>

        package init?(old: MemoryRecord, current: MemoryRecord) {
            let before = Set(QueryStopwords.contentTokens(old.content)), now = Set(QueryStopwords.contentTokens(current.content))
            said = before.subtracting(now)
            guard !said.isEmpty else { return nil }
            topic = before.intersection(now)
            fresh = now.subtracting(before)
            self.current = current.id
            version = old.version
        }

        package func isRepeated(by words: Set<String>) -> Bool {
            said.isSubset(of: words) && (topic.isEmpty || !topic.isDisjoint(with: words)) && (fresh.isEmpty || !fresh.isSubset(of: words))
        }
    }

    /// The old values of the hits that have superseded versions (read from their histories).
    package static func supersededValues(of hits: [RecallHit], in store: any RecordStore) async throws -> [SupersededValue] {
        var values: [SupersededValue] = []
        for hit in hits where hit.record.version > 1 {
            let versions = try await store.history(hit.record.id).versions
            for old in versions where old.version < hit.record.version && old.content != hit.record.content {
                if let value = SupersededValue(old: old, current: hit.record) { values.append(value) }
            }
        }
        return values
    }

    /// Adds `superseded` to each hit that repeats what a superseded version of another hit said:
    /// minus its own relevance (its semantic, lexical and context contributions), so it keeps
    /// only what recency, importance and trust give it. Not a constant: a stale memory drops
    /// exactly as far as its likeness to the query would have lifted it, below every current
    /// memory that answers the query, and stays recallable when nothing else does. Its
    /// neighbours lose the context it lent them: what is no longer true does not make the turns
    /// around it relevant.
    func discountingSuperseded(_ hits: [RecallHit]) async throws -> [RecallHit] {
        let values = try await Self.supersededValues(of: hits, in: store)
        guard !values.isEmpty else { return hits }
        var stale: [String: SupersededValue] = [:]
        for hit in hits {
            let words = Set(QueryStopwords.contentTokens(hit.record.content))
            stale[hit.record.id] = values.first { $0.current != hit.record.id && $0.isRepeated(by: words) }
        }
        guard !stale.isEmpty else { return hits }
        return hits.map { hit in
            var hit = hit
            if let i = hit.components.firstIndex(where: { $0.name == "context" }), let source = hit.components[i].source, stale[source] != nil {
                hit.score -= hit.components[i].contribution
                hit.components[i].value = 0
            }
            guard let value = stale[hit.record.id] else { return hit }
            let part = ScoreComponent(name: "superseded", raw: Double(value.version), value: -Self.relevance(of: hit), weight: 1, source: value.current)
            hit.components.append(part)
            hit.score += part.contribution
            return hit
        }
    }
}
