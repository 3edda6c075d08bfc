/// How a reply is generated.
public struct SamplingOptions: Sendable, Hashable {
    /// 0 is greedy.
    public var temperature: Double
    public var topP: Double
    /// 0 keeps every token.
    public var topK: Int
    /// 1 leaves logits alone; above 1 makes repeating a recent token less likely.
    public var repetitionPenalty: Double
    public var maxTokens: Int
    /// Generation stops before any of these strings; the reply never contains them.
    public var stop: [String]
    /// With a seed (and the same prompt and backend), a reply is the same every time.
    public var seed: UInt64?
    /// Makes a token that would extend a repeat of an earlier stretch of the reply less likely
    /// (the embedded backend; HTTP servers apply their own samplers).
    public var dry: DRYPenalty
    /// Ends the reply, as finished, before a sentence or line it has already written (the
    /// embedded backend). A small model that starts over on a paragraph goes on doing so until
    /// `maxTokens`; the repeat adds nothing.
    public var stopsAtRepeatedSentence: Bool

    public init(
        temperature: Double = 0.7, topP: Double = 0.95, topK: Int = 40, repetitionPenalty: Double = 1.1, maxTokens: Int = 256,
        stop: [String] = [], seed: UInt64? = nil, dry: DRYPenalty = .standard, stopsAtRepeatedSentence: Bool = true
    ) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.repetitionPenalty = repetitionPenalty
        self.maxTokens = maxTokens
        self.stop = stop
        self.seed = seed
        self.dry = dry
        self.stopsAtRepeatedSentence = stopsAtRepeatedSentence
    }

    /// The markers the runtime writes around the data it quotes in a prompt (the recalled
    /// memories' block, see ``RecalledBlock``), and the escaped form content carries. Pass them as
    /// stop strings: a reply that starts to write one is ending its own turn, and would otherwise
    /// hand the next prompt a marker it did not put there.
    public static let promptMarkers: [String] = [RecalledBlock.openMarker, "</recalled-memories", "<\\/recalled-memories"]
}

/// DRY ("don't repeat yourself", after text-generation-webui and llama.cpp): a token that would
/// extend a stretch of the reply repeating an earlier stretch loses
/// `multiplier · base^(length − allowedLength)` from its logit, where `length` is how many tokens
/// already repeat, once that is at least `allowedLength`. A penalty on what repeats, unlike
/// ``SamplingOptions/repetitionPenalty``, which shrinks every recent token, words that must recur
/// included.
///
/// Only the reply's own tokens are looked at, not the prompt's: quoting a recalled memory word for
/// word is what a persona should be able to do, and starting over on its own paragraph is the
/// loop this is for. A match never runs across a token holding a newline, `:`, `"` or `*`, so
/// list markers, JSON keys and speaker tags may recur.
public struct DRYPenalty: Sendable, Hashable {
    /// 0 turns the penalty off.
    public var multiplier: Double
    public var base: Double
    /// Repeats of up to this many tokens go unpenalised.
    public var allowedLength: Int

    public init(multiplier: Double, base: Double = 1.75, allowedLength: Int = 2) {
        self.multiplier = multiplier
        self.base = base
        self.allowedLength = max(1, allowedLength)
    }

    /// llama.cpp's recommended values: multiplier 0.8, base 1.75, allowed length 2.
    public static let standard = DRYPenalty(multiplier: 0.8)
    public static let off = DRYPenalty(multiplier: 0)

    var isOn: Bool { multiplier > 0 && base >= 1 }
}
