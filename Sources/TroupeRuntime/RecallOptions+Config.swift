import TroupeConfig
import TroupeRetrieval

extension RecallOptions {
    /// The options that `retrieval:` in the runtime config sets (a weight of 0 turns context or
    /// dates off; `balance.adaptive: false` keeps the weights' split fixed), with what puts the
    /// truth first: the relevance floor, trust from provenance (weighted as importance is, see
    /// ``TrustRanking``) and the discount of memories that repeat a superseded value.
    public init(_ r: RuntimeConfig.Retrieval) {
        self.init(
            lexicalScale: LexicalScale(rawValue: r.lexicalScale) ?? .fullMatch, semanticScale: SemanticScale(rawValue: r.semanticScale) ?? .best,
            dropStopwords: r.stopwords,
            context: r.contextWeight > 0 ? ConversationContext(weight: r.contextWeight, window: r.contextWindow, gap: r.contextGap) : nil,
            dates: r.dateWeight > 0 ? DateMatching(weight: r.dateWeight, halfLife: r.dateHalfLife) : nil,
            balance: r.balanceAdaptive ? SignalBalance(floor: r.balanceFloor, ceiling: r.balanceCeiling, depth: r.balanceDepth) : nil,
            floor: RelevanceFloor(), trust: .provenance(), discountsSuperseded: true)
    }
}

extension TrustRanking {
    /// Trust as ``Provenance/trust`` ranks it: a person's own words 4 … a model's reading of a
    /// model's text 0; no rank (and no discount) for a record without provenance, which an
    /// operator wrote.
    public static func provenance(weight: Double = 0.5) -> TrustRanking {
        TrustRanking(name: "provenance", weight: weight, highest: Provenance.highestTrust) { Provenance($0)?.trust }
    }
}
