import Foundation
import TroupeCore

/// A scripted multi-persona session, as a YAML file in `Scripts/sessions/` defines it: who
/// takes part, how it opens, how speakers take turns, when it stops, and what it must have
/// achieved (its expectations, checked at the end).
public struct SessionDefinition: Sendable, Hashable {
    /// A message said to the session: by the user or a persona.
    public struct Message: Sendable, Hashable {
        public var from: String
        public var text: String
    }

    /// A memory written before the start.
    public struct Seed: Sendable, Hashable {
        /// A persona, or a shared slice (then `by` is the member who writes it).
        public var owner: PersonaID
        public var slice: SliceKind
        public var content: String
        public var by: PersonaID?
        public var importance: Double
        public var tags: [String]
    }

    /// A message that comes in at the start of a round (from the user or a persona).
    public struct Injection: Sendable, Hashable {
        public var round: Int
        public var message: Message
    }

    /// Who speaks next.
    public enum Policy: Sendable, Hashable {
        /// Each persona in the order listed, again and again.
        case roundRobin
        /// This order, again and again.
        case order([PersonaID])
        /// This persona names the next speaker (through the model); when its answer names no
        /// one who may speak, the next one in round-robin order speaks.
        case moderator(PersonaID)
    }

    /// A round in which every persona answers the same prompt at once, each writing its answer
    /// to a shared slice (through the coordinator, whose policy resolves what conflicts).
    public struct ParallelRound: Sendable, Hashable {
        public var round: Int
        public var prompt: String
        public var slice: PersonaID?
    }

    /// The choice a session ends with: `by` picks one of `options` (the model chooses among
    /// them only, so any model gives one of them), and it is written to the decisions slice.
    public struct Decision: Sendable, Hashable {
        public var by: PersonaID
        public var question: String
        public var options: [String]
    }

    /// When the session stops before `maxRounds`.
    public struct Stop: Sendable, Hashable {
        /// A reply containing this (case-insensitive).
        public var phrase: String?
        /// A persona saying DONE (a whole word, in capitals).
        public var done = true
        /// Seconds of wall time.
        public var time: Double?
        /// Tokens generated, all speakers together.
        public var tokens: Int?
        /// The moderator may end the discussion (``endOption``) instead of naming a speaker,
        /// once every other persona has spoken (`policy: moderator` only).
        public var moderator = false

        /// What the moderator chooses to end the discussion: no persona can be named so.
        public static let endOption = "(end)"
    }

    /// Who a memory an expectation looks for must come from: `said_by` (a name, `user`) and
    /// `by` (`person`, `persona`, `import`), each only when given. A memory a model invented
    /// cannot pass `by: person`.
    public struct Origin: Sendable, Hashable {
        public var saidBy: String?
        public var by: String?

        public init(saidBy: String? = nil, by: String? = nil) {
            (self.saidBy, self.by) = (saidBy, by)
        }

        /// `said by bellona, by a person`.
        public var description: String {
            ([saidBy.map { "said by \($0)" }, by.map { "by a \($0)" }].compactMap { $0 }).joined(separator: ", ")
        }
    }

    /// Which clock dates the session's memories.
    public enum Clock: String, Sendable, Hashable, CaseIterable {
        /// The real time (the default): memories age, and working memory expires, as any others.
        case real
        /// A virtual clock from `start`, a minute a round: the same dates on every run (tests,
        /// benchmarks). A replay reproduces either clock from its log.
        case fixed
    }

    /// What the run must have achieved.
    public enum Expectation: Sendable, Hashable {
        /// `persona` recalls a memory containing `contains` for `query` (from `slice`, if given),
        /// of the `origin` given.
        case recalls(persona: PersonaID, query: String, slice: SliceKind?, contains: String, origin: Origin? = nil)
        /// The shared slice holds a current record containing `contains`, of the `origin` given.
        case holds(slice: PersonaID, contains: String, origin: Origin? = nil)
        /// Nothing was written to the shared slice.
        case untouched(slice: PersonaID)
        /// The run stopped for this reason: `max_rounds`, `phrase`, `done`, `time`, `tokens`, `moderator`.
        case stoppedBy(String)
        /// At most this many conflicting shared writes were resolved.
        case conflictsAtMost(Int)
        /// The reasons a run can stop for.
        public static let reasons = ["max_rounds", "phrase", "done", "time", "tokens", "moderator"]
    }

    public var title: String
    /// The file it was read from, as shown in messages.
    public var file: String
    public var personas: [PersonaID]
    /// The shared slices in play.
    public var shared: [PersonaID]
    public var opening: Message
    public var seeds: [Seed]
    public var injections: [Injection]
    public var policy: Policy
    /// Who may speak after whom (a speaker missing here may be followed by anyone).
    public var transitions: [PersonaID: [PersonaID]]
    /// Whether a speaker may speak twice in a row.
    public var allowRepeat: Bool
    public var parallel: [ParallelRound]
    /// A shared slice where a reply's lines that start with `Decision:` are written, by the
    /// persona who said them.
    public var decisions: PersonaID?
    /// The decision the session ends with (needs `decisions`).
    public var decide: Decision?
    public var maxRounds: Int
    public var stop: Stop
    public var expectations: [Expectation]
    /// Seeds the ids: with the run's id (new for every run, kept in its log), the same file and
    /// replies give the same memory.
    public var seed: UInt64
    /// Which clock dates the session's memories.
    public var clock: Clock
    /// When a fixed clock starts (`start:`; 2027-01-15 08:00 UTC when only `clock: fixed` is given).
    public var start: Date
    /// Sampling for every reply (temperature 0 by default: a run is easier to read twice).
    public var temperature: Double
    public var maxTokens: Int
}
