import Foundation
internal import CBLAS
import TroupeCore

/// One search over a snapshot of the index's partitions: lexical (BM25 over postings) and dense
/// (one `cblas_sgemm` per partition for all the batch's queries that search it), then the union
/// of both candidate lists with every signal filled in.
struct IndexSearch {
    let partitions: [IndexPartition.Key: IndexPartition]
    let vocabulary: TermVocabulary
    let dimension: Int
    /// Single-query dense searches answered through the int8 screen, and those it declined
    /// (scored on the Float32 rows instead).
    private(set) var screened = 0, declined = 0

    private struct Hit {
        var partition: IndexPartition
        var row: Int
        var score: Double
    }

    mutating func run(_ queries: [IndexQuery]) -> [[IndexCandidate]] {
        let scopes = queries.map { RecallIndex.keys($0).compactMap { partitions[$0] } }
        let dense = denseHits(queries, scopes: scopes)
        return queries.indices.map { q in
            let query = queries[q]
            let terms = query.terms.compactMap(vocabulary.existingID(for:))
            let scorer = bm25(terms: terms, scope: scopes[q])
            let lexical = lexicalHits(terms: terms, scorer: scorer, scope: scopes[q], query: query)
            var found = merge(lexical: lexical, dense: dense[q], query: query, terms: terms, scorer: scorer)
            if let typical = typicalCosine(query, scope: scopes[q]) {
                for i in found.indices { (found[i].typicalCosine, found[i].cosineDeviation) = typical }
            }
            return found
        }
    }

    /// Rows of each partition whose cosines give the query's typical cosine: all of a small
    /// partition, an even sample of a large one (a mean and a deviation of 256 values are within
    /// a few hundredths of the whole's, at a cost that does not grow with the partition).
    static let typicalSample = 256

    /// The mean and standard deviation of the query's cosine over the scope's rows with a vector.
    private func typicalCosine(_ query: IndexQuery, scope: [IndexPartition]) -> (mean: Double, deviation: Double)? {
        guard let vector = query.vector, vector.count == dimension else { return nil }
        var count = 0, sum = 0.0, squares = 0.0
        for partition in scope where partition.liveCount > 0 && partition.dimension == dimension {
            let step = max(1, partition.rowCount / Self.typicalSample)
            partition.vectors.withUnsafeBufferPointer { matrix in
                for row in stride(from: 0, to: partition.rowCount, by: step) where partition.live[row] && partition.hasVector[row] {
                    let cosine = Double(cblas_sdot(Int32(dimension), vector, 1, matrix.baseAddress! + row * dimension, 1))
                    (count, sum, squares) = (count + 1, sum + cosine, squares + cosine * cosine)
                }
            }
        }
        guard count > 0 else { return nil }
        let mean = sum / Double(count)
        return (mean, max(0, squares / Double(count) - mean * mean).squareRoot())
    }

    // MARK: Lexical

    private func bm25(terms: [Int32], scope: [IndexPartition]) -> BM25Scorer {
        let documents = scope.reduce(0) { $0 + $1.liveCount }
        let length = scope.reduce(0) { $0 + $1.liveLength }
        return BM25Scorer(terms: terms.count, documents: documents, totalLength: length) { i in
            scope.reduce(0) { $0 + ($1.lexical.lists[terms[i]]?.rows.count ?? 0) }
        }
    }

    private func lexicalHits(terms: [Int32], scorer: BM25Scorer, scope: [IndexPartition], query: IndexQuery) -> [Hit] {
        guard !terms.isEmpty else { return [] }
        var best = TopHits(capacity: query.candidates)
        var scores: [Double] = []
        for partition in scope {
            scores.removeAll(keepingCapacity: true)
            scores.append(contentsOf: repeatElement(0, count: partition.rowCount))
            let lengths = partition.lexical.lengths
            for (i, term) in terms.enumerated() {
                guard let list = partition.lexical.lists[term] else { continue }
                for (j, row) in list.rows.enumerated() {
                    scores[Int(row)] += scorer.weight(term: i, count: Int(list.counts[j]), length: lengths[Int(row)])
                }
            }
            for row in scores.indices where scores[row] > 0 && Self.accepts(partition, row, query) {
                best.insert(partition, row, scores[row])
            }
        }
        return best.sorted()
    }

    // MARK: Dense

    /// For each query, the best rows by cosine: each partition is scored once, for all the
    /// queries that search it (one sgemm per block of rows), and the partitions' bests merged.
    /// A batch of one query over many rows reads the int8 copies instead (see
    /// ``DenseScorer/screenedTopK(segments:dimension:query:k:)``); the answer is the same.
    private mutating func denseHits(_ queries: [IndexQuery], scopes: [[IndexPartition]]) -> [[Hit]] {
        var heaps = queries.map { TopHits(capacity: $0.candidates) }
        if queries.count == 1, let screened = screenedHits(queries[0], scope: scopes[0]) {
            for hit in screened { heaps[0].insert(hit.partition, hit.row, hit.score) }
            return heaps.map { $0.sorted() }
        }
        var askers: [ObjectIdentifier: (partition: IndexPartition, queries: [Int])] = [:]
        for (q, scope) in scopes.enumerated() where queries[q].vector?.count == dimension {
            for partition in scope where partition.liveCount > 0 && partition.dimension == dimension {
                askers[ObjectIdentifier(partition), default: (partition, [])].queries.append(q)
            }
        }
        for (partition, asking) in askers.values {
            let block = asking.flatMap { queries[$0].vector! }
            let k = asking.map { queries[$0].candidates }.max() ?? 0
            let found = partition.vectors.withUnsafeBufferPointer { matrix in
                block.withUnsafeBufferPointer { block in
                    DenseScorer.topK(
                        matrix: matrix, rows: partition.rowCount, dimension: dimension, queries: block, queryCount: asking.count,
                        k: k, accept: { i, row in partition.hasVector[row] && Self.accepts(partition, row, queries[asking[i]]) })
                }
            }
            for (i, q) in asking.enumerated() {
                for hit in found[i] { heaps[q].insert(partition, hit.row, Double(hit.score)) }
            }
        }
        return heaps.map { $0.sorted() }
    }

    /// Partitions of this many rows in all are screened through their int8 copies for a single
    /// query; below it the Float32 rows are few enough to stay in cache.
    static let screenFrom = 20_000

    /// The screened search of one query over its partitions, or `nil` when it does not apply or
    /// could not prove its answer.
    private mutating func screenedHits(_ query: IndexQuery, scope: [IndexPartition]) -> [Hit]? {
        guard let vector = query.vector, vector.count == dimension else { return nil }
        let searched = scope.filter { $0.liveCount > 0 && $0.dimension == dimension }
        guard searched.reduce(0, { $0 + $1.rowCount }) >= Self.screenFrom else { return nil }
        func withSegments<R>(_ rest: ArraySlice<IndexPartition>, _ done: [ScreenSegment], _ body: ([ScreenSegment]) -> R) -> R {
            guard let partition = rest.first else { return body(done) }
            return partition.withMatrices { matrix, quantized in
                let segment = ScreenSegment(matrix: matrix, quantized: quantized, rows: partition.rowCount) { row in
                    partition.hasVector[row] && Self.accepts(partition, row, query)
                }
                return withSegments(rest.dropFirst(), done + [segment], body)
            }
        }
        let found = vector.withUnsafeBufferPointer { vector in
            withSegments(searched[...], []) { DenseScorer.screenedTopK(segments: $0, dimension: dimension, query: vector, k: query.candidates) }
        }
        guard let found else {
            declined += 1
            return nil
        }
        screened += 1
        return found.map { Hit(partition: searched[$0.segment], row: $0.hit.row, score: Double($0.hit.score)) }
    }

    // MARK: Union

    private func merge(lexical: [Hit], dense: [Hit], query: IndexQuery, terms: [Int32], scorer: BM25Scorer) -> [IndexCandidate] {
        var byID: [String: Int] = [:]
        var merged: [IndexCandidate] = []
        var places: [(partition: IndexPartition, row: Int)] = []
        for (rank, hit) in lexical.enumerated() {
            var c = candidate(hit.partition, hit.row, query: query, terms: terms, scorer: scorer)
            c.lexicalRank = rank + 1
            byID[c.id] = merged.count
            merged.append(c)
            places.append((hit.partition, hit.row))
        }
        for (rank, hit) in dense.enumerated() {
            let id = hit.partition.ids[hit.row]
            if byID[id] == nil {
                byID[id] = merged.count
                merged.append(candidate(hit.partition, hit.row, query: query, terms: terms, scorer: scorer))
                places.append((hit.partition, hit.row))
            }
            merged[byID[id]!].denseRank = rank + 1
        }
        guard query.contextWindow > 0 else { return merged }
        return addingContext(merged, places: places, query: query, terms: terms, scorer: scorer)
    }

    /// A candidate with every signal of `row`: BM25 over the query's terms, cosine, creation time.
    func candidate(_ p: IndexPartition, _ row: Int, query: IndexQuery, terms: [Int32], scorer: BM25Scorer) -> IndexCandidate {
        var bm25 = 0.0
        for (i, term) in terms.enumerated() {
            bm25 += scorer.weight(term: i, count: p.lexical.count(of: term, in: Int32(row)), length: p.lexical.lengths[row])
        }
        return IndexCandidate(
            id: p.ids[row], owner: p.key.owner, slice: p.key.slice, bm25: bm25, bm25Ceiling: scorer.ceiling,
            cosine: cosine(query.vector, p, row), createdAt: Date(timeIntervalSince1970: p.createdAt[row]),
            importance: p.importance[row], lexicalRank: nil, denseRank: nil)
    }

    private func cosine(_ vector: [Float]?, _ p: IndexPartition, _ row: Int) -> Double? {
        guard let vector, vector.count == dimension, p.hasVector[row] else { return nil }
        return p.vectors.withUnsafeBufferPointer { matrix in
            Double(cblas_sdot(Int32(dimension), vector, 1, matrix.baseAddress! + row * dimension, 1))
        }
    }

    static func accepts(_ p: IndexPartition, _ row: Int, _ query: IndexQuery) -> Bool {
        p.live[row] && (query.tag.map { p.tags[row].contains($0) } ?? true)
            && (query.excludedTag.map { !p.tags[row].contains($0) } ?? true)
            && (query.now.map { p.expiresAt[row] > $0.timeIntervalSince1970 } ?? true)
    }

    // MARK: Selection

    /// The best hits across partitions; ties go to the lower id, so results do not depend on
    /// load order.
    private struct TopHits {
        private var heap: BoundedHeap<Hit>

        init(capacity: Int) {
            heap = BoundedHeap(capacity: capacity) { a, b in
                a.score != b.score ? a.score < b.score : a.partition.ids[a.row] > b.partition.ids[b.row]
            }
        }

        mutating func insert(_ partition: IndexPartition, _ row: Int, _ score: Double) {
            heap.insert(Hit(partition: partition, row: row, score: score))
        }

        func sorted() -> [Hit] { heap.sorted() }
    }
}
