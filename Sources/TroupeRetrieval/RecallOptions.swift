import Foundation

/// How recall turns raw signals into the values its weights multiply, and the signals it adds to
/// the four weighted ones. `RecallOptions()` is the plain weighted sum (every query word, BM25 as
/// a share of the query's ceiling, cosine as is, no context, no dates); the runtime config's
/// `retrieval:` section chooses what Troupe runs with (see Config/troupe.yaml).
public struct RecallOptions: Sendable, Hashable {
    /// How a BM25 score becomes a value in 0…1.
    public enum LexicalScale: String, Sendable, CaseIterable {
        /// A share of the most any record could score (every query term saturated). A record that
        /// holds each query word once scores about 0.45 of it, so lexical evidence stays small.
        case ceiling
        /// A share of what a record of average length holding each query word once scores (the
        /// sum of the terms' idf), capped at 1: 1 means "every query word is there".
        case fullMatch = "full-match"
    }

    /// How a cosine becomes a value in 0…1.
    public enum SemanticScale: String, Sendable, CaseIterable {
        /// The cosine itself (below 0 counts as 0).
        case cosine
        /// A share of the best cosine among the query's candidates. MiniLM's cosines sit in a
        /// different band for every query (0.3 for one, 0.7 for another); as a share of the best
        /// they mean the same for every query, and so do the weights next to the other components.
        case best
    }

    public var lexicalScale: LexicalScale
    public var semanticScale: SemanticScale
    /// Leave common function words ("when", "did", "the") out of the lexical query. BM25 of the
    /// remaining words is still exactly FTS5's for those words; a query of nothing but function
    /// words keeps them all.
    public var dropStopwords: Bool
    /// The conversation around a memory counts (see ``ConversationContext``); `nil` for none.
    public var context: ConversationContext?
    /// Dates the query names count against when memories were made (see ``DateMatching``).
    public var dates: DateMatching?
    /// How decisive the dense ranking is sets the semantic and lexical weights' split (see
    /// ``SignalBalance``); `nil` keeps the configured weights for every query.
    public var balance: SignalBalance?
    /// Candidates that match no query word and are no closer in meaning than a typical record are
    /// left out, so a recall may return fewer than its limit (see ``RelevanceFloor``); `nil` fills
    /// every slot.
    public var floor: RelevanceFloor?
    /// Who said a memory, and how, counts (see ``TrustRanking``); `nil` for not at all.
    public var trust: TrustRanking?
    /// A memory that repeats what a superseded version of a current memory said loses its
    /// relevance (see ``Recaller/superseded``).
    public var discountsSuperseded: Bool

    public init(
        lexicalScale: LexicalScale = .ceiling, semanticScale: SemanticScale = .cosine, dropStopwords: Bool = false,
        context: ConversationContext? = nil, dates: DateMatching? = nil, balance: SignalBalance? = nil,
        floor: RelevanceFloor? = nil, trust: TrustRanking? = nil, discountsSuperseded: Bool = false
    ) {
        self.floor = floor
        self.trust = trust
        self.discountsSuperseded = discountsSuperseded
        self.lexicalScale = lexicalScale
        self.semanticScale = semanticScale
        self.dropStopwords = dropStopwords
        self.context = context
        self.dates = dates
        self.balance = balance
    }
}

/// The semantic and lexical weights keep their sum, but how they split it follows, per query, how
/// decisive the dense ranking is. Its *spread* is how far the `depth`-th best cosine among the
/// candidates falls below the best, as a share of the best. MiniLM gives the turns of one long
/// conversation much the same cosine for a question (a spread near 0.15): there it cannot tell
/// them apart, and the words must. A question close to one memory in meaning stands out (a spread
/// of 0.3 to 0.7), and a paraphrase that shares no word with its answer is found by meaning alone.
/// Semantic's share of the sum is `floor + spread`, at most `ceiling`.
public struct SignalBalance: Sendable, Hashable {
    /// Semantic's share when the dense ranking is flat.
    public var floor: Double
    /// Semantic's share at most.
    public var ceiling: Double
    /// Which cosine, counted from the best, the spread is measured to.
    public var depth: Int

    public init(floor: Double = 0.4, ceiling: Double = 0.8, depth: Int = 10) {
        self.floor = floor
        self.ceiling = max(floor, ceiling)
        self.depth = max(2, depth)
    }

    /// The spread of `cosines` (any order; negative ones count as 0): 0 with fewer than two.
    public func spread(of cosines: [Double]) -> Double {
        guard cosines.count >= 2 else { return 0 }
        // The best `depth`, never sorted: the heap's root is the depth-th best (or the last).
        var top = BoundedHeap<Double>(capacity: depth, isWorse: <)
        for cosine in cosines { top.insert(max(0, cosine)) }
        guard let best = top.items.max(), best > 0, let deepest = top.worst else { return 0 }
        return (best - deepest) / best
    }

    /// Semantic's share of the two weights for a dense ranking of this spread.
    public func semanticShare(spread: Double) -> Double { min(ceiling, floor + spread) }
}

/// A memory's neighbours in its conversation — the records of the same owner and slice made just
/// before and after it — often hold what it leaves implicit: the question that "yes, last week"
/// answers, what "it" is. A record scores `weight` × the query relevance (the semantic and lexical
/// contributions) of its most relevant neighbour on top of its own, and neighbours of candidates
/// become candidates themselves.
public struct ConversationContext: Sendable, Hashable {
    /// How much the best neighbour's relevance adds.
    public var weight: Double
    /// Neighbours looked at on each side.
    public var window: Int
    /// Two records further apart in time than this are not in the same conversation.
    public var gap: TimeInterval

    public init(weight: Double = 0.5, window: Int = 2, gap: TimeInterval = 3600) {
        self.weight = weight
        self.window = window
        self.gap = gap
    }
}

/// A query that names a date ("on 13 October 2023", "in May", "last week") prefers memories made
/// then: `weight` × 1 inside the named span, halving every `halfLife` outside it. Queries without
/// a date are not affected.
public struct DateMatching: Sendable, Hashable {
    public var weight: Double
    public var halfLife: TimeInterval

    public init(weight: Double = 0.2, halfLife: TimeInterval = 7 * 86_400) {
        self.weight = weight
        self.halfLife = halfLife
    }
}
