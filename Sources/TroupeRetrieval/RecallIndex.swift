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
    /// Records carrying this tag are left out (the archive, unless it is what is searched).
    public var excludedTag: String?
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
    /// The mean and the standard deviation of the query's cosine over the records with a vector
    /// it searched (a sample of a large partition): what a record picked at random scores with
    /// this embedder and this query, and how far cosines spread around it (see
    /// ``RelevanceFloor``). `nil` without a query vector.
    public var typicalCosine: Double?, cosineDeviation: Double?

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
///
/// Searches never see a partition half loaded: partitions are built aside (a first load, or a
/// reload after the store trimmed its change log) and put in place in one step, between two
/// suspension points.
public actor RecallIndex {
    /// The thread every recall index of the process, and the ranking of its candidates
    /// (``Recaller``), runs on: scoring every row of a partition and building partitions are long
    /// CPU work, which would hold a thread of the cooperative pool.
    public static let executor = ThreadExecutor(name: "troupe-recall")

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.executor.asUnownedSerialExecutor() }

    let source: any IndexSource
    /// The embedding model whose vectors are loaded; others are never scored together.
    public nonisolated let model: String?
    public nonisolated let dimension: Int
    private var partitions: [IndexPartition.Key: IndexPartition] = [:]
    /// Where each loaded record is, and at which version.
    private var location: [String: (key: IndexPartition.Key, version: Int)] = [:]
    private var vocabulary = TermVocabulary()
    private var cursor: Int64?
    private var refreshing: Task<Void, any Error>?
    /// Reloads after a trimmed change log, for tests.
    package private(set) var reloads = 0

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
    package private(set) var screenOutcomes = (proven: 0, declined: 0)

    /// Rows held, live and dead, over all partitions.
    public var loadedRecords: Int { partitions.values.reduce(0) { $0 + $1.liveCount } }

    /// What this process just committed (records with their vectors, and removals), applied to
    /// the partitions already loaded; the change feed brings the same later, which is harmless.
    /// A version older than the one held is ignored.
    public func didCommit(_ entries: [IndexEntry], removed: [String] = []) {
        for id in removed { remove(id) }
        for entry in entries { add(entry, into: &partitions, &location) }
    }

    /// Applies the change feed to the partitions loaded, if any (a long-lived owner calls this
    /// now and then, so that a recall after a quiet spell has little to catch up).
    public func catchUp() async throws {
        guard cursor != nil else { return }
        try await refresh([])
    }

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
        // Scan first, then apply the changes since the cursor: a change the scan already saw is
        // applied again, which is harmless (an upsert of the same version).
        let missing = keys.filter { partitions[$0] == nil }
        if !missing.isEmpty {
            // Refreshes run one at a time, so nothing else puts these partitions in meanwhile
            // (`didCommit` skips partitions not loaded).
            let (loaded, places) = try await loadAside(missing)
            partitions.merge(loaded) { current, _ in current }
            location.merge(places) { current, _ in current }
        }
        while let from = cursor {
            let feed = try await source.changes(since: from, limit: 5000)
            if feed.mustReload {
                try await reload(keys)
                continue
            }
            for id in feed.removed { remove(id) }
            let entries = try await source.indexEntries(ids: feed.changed, model: model)
            let found = Set(entries.map(\.id))
            for id in feed.changed where !found.contains(id) { remove(id) }
            for entry in entries { add(entry, into: &partitions, &location, force: true) }
            guard feed.cursor != from else { break }
            cursor = feed.cursor
        }
    }

    /// Loads every partition held (and `keys`) again, aside, from a new cursor, then swaps the
    /// new set in at once: the store no longer remembers changes as old as ours.
    private func reload(_ keys: Set<IndexPartition.Key>) async throws {
        let wanted = Set(partitions.keys).union(keys)
        let fresh = try await source.changeCursor()
        let (loaded, places) = try await loadAside(wanted)
        partitions = loaded
        location = places
        cursor = fresh
        reloads += 1
    }

    /// Builds the partitions of `keys` from the store, without touching the ones in use.
    private func loadAside(_ keys: Set<IndexPartition.Key>) async throws
        -> ([IndexPartition.Key: IndexPartition], [String: (key: IndexPartition.Key, version: Int)])
    {
        var loaded: [IndexPartition.Key: IndexPartition] = [:]
        var places: [String: (key: IndexPartition.Key, version: Int)] = [:]
        for key in keys { loaded[key] = IndexPartition(key: key, dimension: model == nil ? 0 : dimension) }
        for (owner, group) in Dictionary(grouping: keys, by: \.owner).sorted(by: { $0.key < $1.key }) {
            var after: IndexEntry?
            while true {
                let page = try await source.indexEntries(
                    owners: [owner], slices: group.map(\.slice), model: model, after: after, limit: 2000)
                for entry in page { add(entry, into: &loaded, &places, force: true) }
                guard page.count == 2000 else { break }
                after = page.last
            }
        }
        return (loaded, places)
    }

    /// Puts `entry` in its partition among `into`, if that partition is there; unless `force`,
    /// only when it is newer than the version held.
    private func add(
        _ entry: IndexEntry, into partitions: inout [IndexPartition.Key: IndexPartition],
        _ places: inout [String: (key: IndexPartition.Key, version: Int)], force: Bool = false
    ) {
        let key = IndexPartition.Key(owner: entry.owner, slice: entry.slice)
        guard let partition = partitions[key] else { return }
        if let old = places[entry.id] {
            if !force, old.version > entry.version { return }
            if old.key != key { partitions[old.key]?.remove(entry.id) }
        }
        partition.upsert(entry, terms: vocabulary.ids(forText: entry.content))
        places[entry.id] = (key, entry.version)
    }

    private func remove(_ id: String) {
        guard let place = location.removeValue(forKey: id) else { return }
        partitions[place.key]?.remove(id)
    }
}
