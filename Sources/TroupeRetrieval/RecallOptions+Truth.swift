import Foundation
import TroupeCore

/// What keeps irrelevant memories out of a recall's slots. A candidate is relevant when it holds
/// a query word (BM25 above 0), or when its cosine with the query is above both `minSimilarity`
/// and the query's *typical* cosine: its mean over every record the recall searched (see
/// ``IndexCandidate/typicalCosine``). That mean is what this embedder gives this query for a
/// record picked at random, so it adapts to the embedder's own band (MiniLM's unrelated pairs sit
/// near 0.1, the hashing embedder's near 0) and to how crowded the query's neighbourhood is,
/// without a constant fitted to one model. On the retrieval-quality set every one of the 112
/// answers is above its query's typical cosine (the closest by half a standard deviation), and
/// about half of the unrelated records are below it.
///
/// A candidate's own relevance decides, not its neighbours' (see ``ConversationContext``): in a
/// small memory the facts and turns made just after a relevant one are its neighbours whatever
/// they say. A "yes, last week" that answers a relevant question without a word of the query
/// is then left out unless its meaning is close enough; in a large memory (LoCoMo's
/// conversations) the floor leaves every slot filled and changes nothing.
public struct RelevanceFloor: Sendable, Hashable {
    /// The least cosine that counts whatever the typical one (below it a record is unrelated in
    /// meaning for any embedder that centres unrelated pairs at or above 0). 0 by default: a
    /// negative cosine never fills a slot.
    public var minSimilarity: Double
    /// How many standard deviations of the query's cosines above their mean the floor sits.
    public var deviations: Double
    /// Slices the floor leaves alone: procedural memories (rules, how the persona works) apply to
    /// a turn whatever its words, as "prefer tables to prose" does to "summarise the week".
    public var exempt: Set<SliceKind>

    public init(minSimilarity: Double = 0, deviations: Double = 0.5, exempt: Set<SliceKind> = [.procedural]) {
        self.minSimilarity = minSimilarity
        self.deviations = deviations
        self.exempt = exempt
    }

    /// The cosine a candidate without a query word must exceed, given the query's typical cosine
    /// and their deviation (``IndexCandidate/typicalCosine``).
    public func threshold(typical: Double?, deviation: Double?) -> Double {
        guard let typical else { return minSimilarity }
        return max(minSimilarity, typical + deviations * (deviation ?? 0))
    }
}

/// How far a memory is to be believed counts in its score, as a discount on what its likeness
/// to the query earned it: the `trust` component is `weight × (rank / highest − 1) × relevance`,
/// where relevance is the memory's semantic, lexical and context contributions. A memory of the
/// highest rank keeps all of its relevance; with the default weight of one half, a model's text
/// (rank 1 of 4) keeps five eighths of it, a turn's summary (3 of 4) seven eighths. Being a share,
/// not a constant, it holds in a memory of any size and for any embedder: a persona's own reply
/// that repeats a person's fact, and borrows context from the message it answered, falls below
/// the fact by the same share however close both are to the query; and a reply far closer to the
/// query than any fact still ranks above an unrelated one. A memory whose rank cannot be read (no
/// provenance) gets no component: it is believed in full, as one of the highest rank is, and data
/// of one trust (an import, a test set) ranks exactly as without trust.
///
/// The runtime reads the rank from a record's provenance (a person's own words 4, a summary of a
/// turn 3, an import 2, a model's text 1 or 0; see ``Provenance/trust``).
public struct TrustRanking: Sendable, Hashable {
    public var weight: Double
    /// The rank that counts in full.
    public var highest: Int
    /// Names the reading, for equality: two rankings of the same name, weight and highest are
    /// taken as the same (a closure cannot be compared).
    public var name: String
    /// A record's rank from its metadata, 0…`highest`; `nil` when the metadata does not say.
    public var rank: @Sendable (JSONValue?) -> Int?

    public init(name: String, weight: Double = 0.5, highest: Int, rank: @escaping @Sendable (JSONValue?) -> Int?) {
        self.name = name
        self.weight = weight
        self.highest = max(1, highest)
        self.rank = rank
    }

    /// The component's value for a rank: the share of the highest rank it falls short by, negated (-1…0).
    public func value(rank: Int) -> Double {
        min(1, max(0, Double(rank) / Double(highest))) - 1
    }

    public static func == (a: TrustRanking, b: TrustRanking) -> Bool {
        (a.name, a.weight, a.highest) == (b.name, b.weight, b.highest)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(weight)
        hasher.combine(highest)
    }
}
