import TroupeConfig
import TroupeRetrieval

extension RecallOptions {
    /// The options that `retrieval:` in the runtime config sets (a weight of 0 turns context or
    /// dates off; `balance.adaptive: false` keeps the weights' split fixed).
    public init(_ r: RuntimeConfig.Retrieval) {
        self.init(
            lexicalScale: LexicalScale(rawValue: r.lexicalScale) ?? .fullMatch, semanticScale: SemanticScale(rawValue: r.semanticScale) ?? .best,
            dropStopwords: r.stopwords,
            context: r.contextWeight > 0 ? ConversationContext(weight: r.contextWeight, window: r.contextWindow, gap: r.contextGap) : nil,
            dates: r.dateWeight > 0 ? DateMatching(weight: r.dateWeight, halfLife: r.dateHalfLife) : nil,
            balance: r.balanceAdaptive ? SignalBalance(floor: r.balanceFloor, ceiling: r.balanceCeiling, depth: r.balanceDepth) : nil)
    }
}
