import Foundation
import TroupeCore
import TroupeStore

/// One query to the index: lexical terms and, optionally, the query's embedding.
public struct IndexQuery: Sendable {
    /// Tokens of the query, as ``LexicalTokenizer`` makes them.
    public var terms: [String]
    /// The query's embedding by the index's model; `nil` for a lexical-only search.
    public var vector: [Float]?
    public var owners: [PersonaID]
    /// `nil` for every slice.
    public var slices: [SliceKind]?
    /// Only records carrying this tag.
    public var tag: String?
    /// How many candidates each ranking (lexical, dense) contributes.
    public var candidates: Int
    /// Records that expired by then (working memory past its TTL) are left out; `nil` keeps all.
    public var now: Date?
    /// Conversation neighbours looked at on each side of a candidate (0: none), how far apart in
    /// time two records of one conversation may be, and how many of each ranking's best bring
    /// their neighbours in as candidates (every candidate lists the neighbours among them).
    public var contextWindow = 0, contextGap: TimeInterval = 0, contextFrom = 20

    public init(
        terms: [String], vector: [Float]?, owners: [PersonaID], slices: [SliceKind]?, tag: String? = nil, candidates: Int, now: Date? = nil
    ) {
        self.terms = terms
        self.vector = vector
        self.owners = owners
        self.slices = slices
        self.tag = tag
        self.candidates = candidates
        self.now = now
    }
}

/// A record the index found, with every signal ranking needs.
public struct IndexCandidate: Sendable, Hashable {
    public var id: String
    public var owner: PersonaID
    public var slice: SliceKind
    /// BM25 over the searched partitions (0 when no query term occurs).
    public var bm25: Double
    /// The most BM25 any record could score for this query: each term's idf × (k1 + 1). A
    /// record matching only common words scores a small share of it.
    public var bm25Ceiling: Double
    /// Cosine with the query, when both have a vector.
    public var cosine: Double?
    public var createdAt: Date
    public var importance: Double
    /// 1-based places in the lexical and dense rankings, when the record made them (neither, for
    /// a record that is a candidate as another's neighbour).
    public var lexicalRank: Int?
    public var denseRank: Int?
    /// Ids of the candidates next to it in its conversation (see ``ConversationContext``).
    public var neighbours: [String] = []

    public init(
        id: String, owner: PersonaID, slice: SliceKind, bm25: Double, bm25Ceiling: Double = 0, cosine: Double?, createdAt: Date,
        importance: Double, lexicalRank: Int? = nil, denseRank: Int? = nil
    ) {
        self.bm25Ceiling = bm25Ceiling
        self.id = id
        self.owner = owner
        self.slice = slice
        self.bm25 = bm25
        self.cosine = cosine
        self.createdAt = createdAt
        self.importance = importance
        self.lexicalRank = lexicalRank
        self.denseRank = denseRank
    }
}

/// The in-memory recall index: per owner and slice, a vector matrix and an inverted index,
/// loaded from the store on first use and kept current through the store's change feed, so
/// writes by any process are seen.
public actor RecallIndex {
    let source: any IndexSource
    /// The embedding model whose vectors are loaded; others are never scored together.
    public nonisolated let model: String?
    public nonisolated let dimension: Int
    private var partitions: [IndexPartition.Key: IndexPartition] = [:]
    private var location: [String: IndexPartition.Key] = [:]
    private var vocabulary = TermVocabulary()
    private var cursor: Int64?
    private var refreshing: Task<Void, any Error>?

    public init(source: any IndexSource, model: String?, dimension: Int) {
        self.source = source
        self.model = model
        self.dimension = dimension
    }

    /// Searches for every query of the batch; one list of candidates per query, in order.
    public func search(_ queries: [IndexQuery]) async throws -> [[IndexCandidate]] {
        let keys = Set(queries.flatMap(Self.keys))
        try await refresh(keys)
        var search = IndexSearch(partitions: partitions, vocabulary: vocabulary, dimension: dimension)
        let found = search.run(queries)
        screenOutcomes.proven += search.screened
        screenOutcomes.declined += search.declined
        return found
    }

    /// Single-query dense searches the int8 screen answered (`proven`) or handed to the exact
    /// Float32 scan (`declined`) so far; for benchmarks and tests.
    public private(set) var screenOutcomes = (proven: 0, declined: 0)

    /// Rows held, live and dead, over all partitions.
    public var loadedRecords: Int { partitions.values.reduce(0) { $0 + $1.liveCount } }

    static func keys(_ query: IndexQuery) -> [IndexPartition.Key] {
        query.owners.flatMap { owner in (query.slices ?? SliceKind.allCases).map { IndexPartition.Key(owner: owner, slice: $0) } }
    }

    // MARK: Loading and catching up

    /// One refresh at a time: a caller arriving while another refreshes waits for it, then
    /// refreshes again, since it may need partitions the other did not load.
    private func refresh(_ keys: Set<IndexPartition.Key>) async throws {
        while let running = refreshing {
            _ = try? await running.value
            // Awaiting a finished task need not suspend: clear it here rather than wait for its
            // owner's `defer`, which cannot run while this caller holds the actor.
            if refreshing == running { refreshing = nil }
        }
        let task = Task { try await self.catchUp(loading: keys) }
        refreshing = task
        defer { if refreshing == task { refreshing = nil } }
        try await task.value
    }

    private func catchUp(loading keys: Set<IndexPartition.Key>) async throws {
        if cursor == nil { cursor = try await source.changeCursor() }
        let missing = keys.filter { partitions[$0] == nil }
        // Scan first, then apply the changes since the cursor: a change the scan already saw is
        // applied again, which is harmless (an upsert of the same version).
        for (owner, slices) in Dictionary(grouping: missing, by: \.owner).sorted(by: { $0.key < $1.key }) {
            try await load(owner: owner, slices: slices.map(\.slice))
        }
        while let from = cursor {
            let feed = try await source.changes(since: from, limit: 5000)
            if feed.mustReload {
                let wanted = Set(partitions.keys).union(keys)
                partitions = [:]
                location = [:]
                cursor = try await source.changeCursor()
                try await catchUp(loading: wanted)
                return
            }
            for id in feed.removed { remove(id) }
            let entries = try await source.indexEntries(ids: feed.changed, model: model)
            let found = Set(entries.map(\.id))
            for id in feed.changed where !found.contains(id) { remove(id) }
            for entry in entries { add(entry) }
            guard feed.cursor != from else { break }
            cursor = feed.cursor
        }
    }

    private func load(owner: PersonaID, slices: [SliceKind]) async throws {
        for slice in slices {
            let key = IndexPartition.Key(owner: owner, slice: slice)
            if partitions[key] == nil { partitions[key] = IndexPartition(key: key, dimension: model == nil ? 0 : dimension) }
        }
        var after: IndexEntry?
        while true {
            let page = try await source.indexEntries(owners: [owner], slices: slices, model: model, after: after, limit: 2000)
            for entry in page { add(entry) }
            guard page.count == 2000 else { return }
            after = page.last
        }
    }

    private func add(_ entry: IndexEntry) {
        let key = IndexPartition.Key(owner: entry.owner, slice: entry.slice)
        guard let partition = partitions[key] else { return }
        if let old = location[entry.id], old != key { partitions[old]?.remove(entry.id) }
        let terms = vocabulary.ids(forText: entry.content)
        partition.upsert(entry, terms: terms)
        location[entry.id] = key
    }

    private func remove(_ id: String) {
        guard let key = location.removeValue(forKey: id) else { return }
        partitions[key]?.remove(id)
    }
}
