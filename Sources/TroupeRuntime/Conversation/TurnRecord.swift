import Foundation
import TroupeCore
import TroupeLLM
import TroupeRetrieval

/// What one turn did: what it recalled (each score component), the prompt it sent, what it
/// wrote, which backend answered, and how long each step took. `:why`, transcripts and logs
/// read it.
public struct TurnRecord: Sendable {
    /// A memory the turn wrote, or changed.
    public struct Written: Sendable, Hashable {
        public enum What: String, Sendable, Hashable {
            case message, reply, episode, fact
            /// An existing fact said again: its importance grew, no new memory.
            case strengthened
            /// A fact that replaced a contradicted one (the old version keeps its end of validity).
            case superseded
            /// A claim that contradicts a fact of higher trust: kept beside it, linked to it as
            /// disputed, the fact left as it was.
            case disputed
        }
        public var what: What
        public var id: String
        public var slice: SliceKind
        public var content: String
        /// For `superseded`: the version that ended.
        public var replacedVersion: Int?
        /// For `disputed`: the fact it disputes.
        public var disputes: String?
        /// Where a fact came from (facts, and the changes formation made).
        public var provenance: Provenance?
        /// Why the memory was flagged, if its text reads like an instruction.
        public var flagged: String?
    }

    /// A sentence of the reply that says a value memory knows to be superseded, and what holds
    /// now: a weak model repeats what it read, and the person reading the reply is told.
    public struct Outdated: Sendable, Hashable {
        public var said: String
        /// The current memory, and its id.
        public var now: String
        public var id: String
        /// The sentence gives a value memory never held (a model's own), rather than one a
        /// newer fact replaced.
        public var contradicts = false
        /// Not a sentence of the reply (`said` is empty): the message asked about a fact a
        /// person stated and the reply does not give its value (a weak model answers from
        /// elsewhere, or not at all).
        public var unanswered = false
    }

    /// Milliseconds spent in each step.
    public struct Timings: Sendable, Hashable {
        public var recall = 0.0, assembly = 0.0, firstToken: Double?, model = 0.0, storing = 0.0
        /// Everything but the model: recall, assembly and storing.
        public var overhead: Double { recall + assembly + storing }
    }

    public var conversation: String
    public var number: Int
    public var persona: PersonaID
    /// Who spoke to the persona: `user` or another persona.
    public var speaker: String
    public var message: String
    public var reply: String
    public var finish: FinishReason
    /// What went wrong with the model, when the reply broke off (the partial exchange is stored).
    public var failure: String?
    /// The recalled memories that reached the prompt, best first (not those dropped to fit it).
    public var recalled: [RecallHit]
    public var written: [Written]
    /// What the reply says that memory knows is no longer true.
    public var outdated: [Outdated] = []
    /// The messages sent to the model, as fitted into its context.
    public var prompt: [ChatMessage] = []
    public var backend: BackendDescription
    public var promptTokens = 0
    public var completionTokens = 0
    public var timings = Timings()
    /// What the prompt left out to fit the context.
    public var dropped = (exchange: 0, memories: 0, notes: 0)

    /// Whether the reply is whole (the model finished, or stopped at its token limit).
    public var complete: Bool { failure == nil && finish != .cancelled }
}

/// What a turn yields while it runs.
public enum TurnEvent: Sendable {
    /// The memories recalled for the message, before the model starts.
    case recalled([RecallHit])
    /// The next piece of the reply.
    case delta(String)
    /// The turn is over and stored.
    case done(TurnRecord)
}
