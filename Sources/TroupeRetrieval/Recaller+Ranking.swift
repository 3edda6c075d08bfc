import Foundation
import TroupeCore

extension Recaller {
    /// A candidate with its score, before its record is read.
    package struct Ranked: Sendable {
        package var candidate: IndexCandidate
        package var score: Double
        package var components: [ScoreComponent]
    }

    /// Scores candidates and keeps the best `limit`; `semantic` says whether cosine counts, and
    /// `query` is read for the dates it names (with ``RecallOptions/dates`` on).
    /// Exposed for tests and the quality benchmark.
    package func rank(_ candidates: [IndexCandidate], limit: Int, now: Date, semantic: Bool, query: String = "") -> [Ranked] {
        let w = effectiveWeights(semantic: semantic)
        var ranked: [Ranked]
        switch fusion {
        case .weighted: ranked = weightedSum(candidates, w, now: now)
        case .reciprocalRank: ranked = reciprocalRank(candidates, w)
        }
        if let context = options.context, context.weight > 0 { ranked = addingContext(ranked, weight: context.weight) }
        if let dates = options.dates, dates.weight > 0 {
            let named = QueryDates(parsing: query, now: now)
            if !named.isEmpty { ranked = addingDates(ranked, named, dates) }
        }
        if let floor = options.floor { ranked = keepingRelevant(ranked, floor) }
        return Array(ranked.sorted { ($0.score, $1.candidate.id) > ($1.score, $0.candidate.id) }.prefix(limit))
    }

    /// Weights of the components that can be computed, rescaled to sum to one.
    func effectiveWeights(semantic: Bool) -> (semantic: Double, lexical: Double, recency: Double, importance: Double) {
        let s = semantic ? weights.semantic : 0
        let total = s + weights.lexical + weights.recency + weights.importance
        let scale = total > 0 ? 1 / total : 0
        return (s * scale, weights.lexical * scale, weights.recency * scale, weights.importance * scale)
    }

    private func recency(_ c: IndexCandidate, now: Date) -> (age: Double, value: Double) {
        let age = max(0, now.timeIntervalSince(c.createdAt))
        return (age, pow(0.5, age / weights.recencyHalfLife))
    }

    private func weightedSum(
        _ candidates: [IndexCandidate], _ w: (semantic: Double, lexical: Double, recency: Double, importance: Double), now: Date
    ) -> [Ranked] {
        let best = candidates.reduce(0.0) { max($0, $1.cosine ?? 0) }
        var w = w, spread: Double?
        if let balance = options.balance, w.semantic > 0 {
            // The two weights keep their sum; how decisive the dense ranking is splits it.
            let s = balance.spread(of: candidates.compactMap(\.cosine)), sum = w.semantic + w.lexical
            w.semantic = sum * balance.semanticShare(spread: s)
            w.lexical = sum - w.semantic
            spread = s
        }
        return candidates.map { c in
            let (age, recent) = recency(c, now: now)
            var components: [ScoreComponent] = []
            if w.semantic > 0 {
                let cosine = max(0, c.cosine ?? 0)
                let value = options.semanticScale == .best ? (best > 0 ? cosine / best : 0) : cosine
                components.append(ScoreComponent(
                    name: "semantic", raw: c.cosine ?? 0, value: value, weight: w.semantic, spread: spread,
                    reference: options.semanticScale == .best ? best : nil))
            }
            // A share of what the query's words could score, never of the best candidate's score: a
            // record that matched only common words stays low even when nothing matched better.
            let full = options.lexicalScale == .fullMatch ? c.bm25Ceiling / (BM25Scorer.k1 + 1) : c.bm25Ceiling
            components += [
                ScoreComponent(
                    name: "lexical", raw: c.bm25, value: full > 0 ? min(1, c.bm25 / full) : 0, weight: w.lexical, spread: spread, reference: full),
                ScoreComponent(name: "recency", raw: age, value: recent, weight: w.recency),
                ScoreComponent(name: "importance", raw: c.importance, value: c.importance, weight: w.importance),
            ]
            return Ranked(candidate: c, score: components.reduce(0) { $0 + $1.contribution }, components: components)
        }
    }

    /// Each component ranks the candidates (ties share the better place); the score is the
    /// weighted sum of 1 / (60 + place), scaled so that first place everywhere scores 1.
    private func reciprocalRank(
        _ candidates: [IndexCandidate], _ w: (semantic: Double, lexical: Double, recency: Double, importance: Double)
    ) -> [Ranked] {
        let k = 60.0
        func places(_ value: (IndexCandidate) -> Double?) -> [Int?] {
            let values = candidates.map(value)
            let sorted = values.compactMap { $0 }.sorted(by: >)
            return values.map { v in v.map { v in sorted.firstIndex(of: v)! + 1 } }
        }
        let semantic = places { $0.cosine }
        let lexical = places { $0.bm25 > 0 ? $0.bm25 : nil }
        let recent = places { $0.createdAt.timeIntervalSince1970 }
        let important = places { $0.importance }
        return candidates.indices.map { i in
            func part(_ name: String, _ place: Int?, _ weight: Double) -> ScoreComponent {
                ScoreComponent(
                    name: name, raw: Double(place ?? 0), value: place.map { (k + 1) / (k + Double($0)) } ?? 0, weight: weight, place: place)
            }
            var components: [ScoreComponent] = []
            if w.semantic > 0 { components.append(part("semantic", semantic[i], w.semantic)) }
            components += [
                part("lexical", lexical[i], w.lexical), part("recency", recent[i], w.recency),
                part("importance", important[i], w.importance),
            ]
            return Ranked(candidate: candidates[i], score: components.reduce(0) { $0 + $1.contribution }, components: components)
        }
    }
}
