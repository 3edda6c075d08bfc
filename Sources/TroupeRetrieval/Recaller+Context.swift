import Foundation

extension Recaller {
    /// How well a candidate answers the query by itself: its semantic and lexical contributions
    /// (recency and importance say nothing about the query).
    static func relevance(_ r: Ranked) -> Double {
        r.components.reduce(0) { $0 + ($1.name == "semantic" || $1.name == "lexical" ? $1.contribution : 0) }
    }

    /// Adds the `context` component: `weight` × the relevance of the candidate's most relevant
    /// conversation neighbour, naming that neighbour. A memory without neighbours (a note, not a
    /// turn of a conversation) has no such signal, and gets no component, as semantic is left out
    /// without an embedder.
    func addingContext(_ ranked: [Ranked], weight: Double) -> [Ranked] {
        let relevance = Dictionary(uniqueKeysWithValues: ranked.map { ($0.candidate.id, Self.relevance($0)) })
        return ranked.map { r in
            let found = r.candidate.neighbours.compactMap { id in relevance[id].map { (id, $0) } }
            guard let best = found.max(by: { ($0.1, $1.0) < ($1.1, $0.0) }) else { return r }
            var r = r
            let part = ScoreComponent(name: "context", raw: best.1, value: best.1, weight: weight, source: best.0)
            r.components.append(part)
            r.score += part.contribution
            return r
        }
    }

    /// Adds the `date` component for a query that names dates: 1 for a memory made within one,
    /// halving every `halfLife` outside; its raw value is the distance in seconds.
    func addingDates(_ ranked: [Ranked], _ named: QueryDates, _ dates: DateMatching) -> [Ranked] {
        ranked.map { r in
            let distance = named.distance(to: r.candidate.createdAt) ?? 0  // never nil: the caller checks for dates
            var r = r
            let value = dates.halfLife > 0 ? pow(0.5, distance / dates.halfLife) : (distance == 0 ? 1 : 0)
            let part = ScoreComponent(name: "date", raw: distance, value: value, weight: dates.weight)
            r.components.append(part)
            r.score += part.contribution
            return r
        }
    }
}
