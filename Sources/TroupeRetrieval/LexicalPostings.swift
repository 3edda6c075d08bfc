import Foundation

/// Term ids shared by every partition of an index, so postings key on integers, not strings.
struct TermVocabulary {
    private var ids: [String: Int32] = [:]
    /// Term ids by word before stemming: words repeat, so most are stemmed once.
    private var byWord: [String: Int32] = [:]

    /// The term ids of `text`'s tokens, assigning new ones as needed.
    mutating func ids(forText text: String) -> [Int32] {
        var out: [Int32] = []
        LexicalTokenizer.forEachWord(in: text) { word in
            let key = String(decoding: word, as: UTF8.self)
            if let id = byWord[key] {
                out.append(id)
                return
            }
            var token = Array(word)
            if token.count >= 3 && token.count <= 64 { PorterStemmer.stem(&token) }
            let id = self.id(for: String(decoding: token, as: UTF8.self))
            byWord[key] = id
            out.append(id)
        }
        return out
    }

    /// The id of `term`, assigning the next one if it is new.
    mutating func id(for term: String) -> Int32 {
        if let id = ids[term] { return id }
        let id = Int32(ids.count)
        ids[term] = id
        return id
    }

    /// The id of `term`, or `nil` when no document has it.
    func existingID(for term: String) -> Int32? { ids[term] }
}

/// One partition's inverted index: for each term, the rows that hold it (ascending) and how often.
///
/// Rows are only appended; a removed row stays in the postings until the partition compacts, and
/// callers skip rows that are not live.
struct LexicalPostings {
    struct List {
        var rows: [Int32] = []
        var counts: [UInt16] = []
    }

    private(set) var lists: [Int32: List] = [:]
    /// Tokens per row.
    private(set) var lengths: [Int32] = []

    /// Tokens a row has besides its content's: FTS5 counts every column in a row's length, and
    /// the store's full-text rows carry two scope tokens (owner, owner and slice). Counting them
    /// here too makes these scores equal to FTS5's `bm25()`.
    static let scopeTokens: Int32 = 2

    /// Indexes the next row from its term ids (repeats count).
    mutating func append(terms: [Int32]) {
        let row = Int32(lengths.count)
        lengths.append(Int32(terms.count) + Self.scopeTokens)
        var counts: [Int32: UInt16] = [:]
        for term in terms { counts[term, default: 0] &+= 1 }
        for (term, count) in counts {
            lists[term, default: List()].rows.append(row)
            lists[term]!.counts.append(count)
        }
    }

    /// How often `term` occurs in `row` (binary search: rows are ascending).
    func count(of term: Int32, in row: Int32) -> Int {
        guard let list = lists[term] else { return 0 }
        var low = 0, high = list.rows.count
        while low < high {
            let mid = (low + high) / 2
            if list.rows[mid] < row { low = mid + 1 } else { high = mid }
        }
        return low < list.rows.count && list.rows[low] == row ? Int(list.counts[low]) : 0
    }

    /// Keeps the rows for which `newRow` gives a new index (in the same order), dropping the rest.
    mutating func compact(_ newRow: [Int32?]) {
        lengths = lengths.indices.compactMap { newRow[$0] != nil ? lengths[$0] : nil }
        for (term, list) in lists {
            var kept = List()
            for (i, row) in list.rows.enumerated() {
                if let moved = newRow[Int(row)] {
                    kept.rows.append(moved)
                    kept.counts.append(list.counts[i])
                }
            }
            lists[term] = kept.rows.isEmpty ? nil : kept
        }
    }
}

/// Okapi BM25 as SQLite's FTS5 computes it (k1 = 1.2, b = 0.75, idf floored at 1e-6), over the
/// documents of the partitions a recall searches.
struct BM25Scorer {
    static let k1 = 1.2
    static let b = 0.75

    let idf: [Double]
    let averageLength: Double

    /// Statistics for `terms` over `documents` documents of `totalLength` tokens, with `frequency`
    /// giving how many documents hold each term.
    init(terms: Int, documents: Int, totalLength: Int, frequency: (Int) -> Int) {
        let n = Double(max(documents, 1))
        averageLength = max(Double(totalLength) / n, 1)
        idf = (0..<terms).map { i in
            let df = Double(frequency(i))
            let value = log((n - df + 0.5) / (df + 0.5))
            return value > 0 ? value : 1e-6
        }
    }

    /// An upper bound of any document's score: every term saturated (tf → ∞ gives idf·(k1+1)).
    var ceiling: Double { idf.reduce(0, +) * (Self.k1 + 1) }

    /// The contribution of term `i` occurring `count` times in a document of `length` tokens.
    func weight(term i: Int, count: Int, length: Int32) -> Double {
        guard count > 0 else { return 0 }
        let tf = Double(count)
        return idf[i] * tf * (Self.k1 + 1) / (tf + Self.k1 * (1 - Self.b + Self.b * Double(length) / averageLength))
    }
}
