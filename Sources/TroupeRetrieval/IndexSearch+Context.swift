import Foundation

extension IndexSearch {
    /// `candidates` (at `places`), then the conversation neighbours of the best `contextFrom` of
    /// each ranking that are not candidates yet, each with every signal; every candidate lists
    /// its neighbours among them.
    ///
    /// Only the best bring neighbours in: a neighbour gains at most the context weight × the
    /// relevance of the candidate beside it, so beside a weak candidate it cannot reach the top,
    /// and fetching it would cost a cosine, a BM25 and a ranked candidate each (a fivefold list).
    /// One hop only: a neighbour's own neighbours are listed when they are candidates, never fetched.
    func addingContext(
        _ candidates: [IndexCandidate], places: [(partition: IndexPartition, row: Int)], query: IndexQuery, terms: [Int32],
        scorer: BM25Scorer
    ) -> [IndexCandidate] {
        var all = candidates, at = places
        var position = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($1.id, $0) })
        func neighbours(_ place: (partition: IndexPartition, row: Int)) -> [Int] {
            let p = place.partition
            return p.neighbours(of: place.row, window: query.contextWindow, gap: query.contextGap) { Self.accepts(p, $0, query) }
        }
        var found = places.map(neighbours)
        for (i, rows) in found.enumerated() where min(candidates[i].lexicalRank ?? .max, candidates[i].denseRank ?? .max) <= query.contextFrom {
            let p = places[i].partition
            for row in rows where position[p.ids[row]] == nil {
                position[p.ids[row]] = all.count
                all.append(candidate(p, row, query: query, terms: terms, scorer: scorer))
                at.append((p, row))
            }
        }
        found += at[places.count...].map(neighbours)
        for i in all.indices {
            let p = at[i].partition
            all[i].neighbours = found[i].map { p.ids[$0] }.filter { position[$0] != nil }
        }
        return all
    }
}
