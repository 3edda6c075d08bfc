import Foundation
import TroupeCore

/// Where a memory came from, kept in its metadata: who put it there (a person, a persona whose
/// text a model generated, an import), how (their words verbatim, read out by rules, read out
/// by a model, summarised, imported), in which conversation and turn; and the trust rank that
/// follows from both. A claim never replaces a fact of higher rank (see ``MemoryFormation``).
public struct Provenance: Sendable, Hashable {
    /// Who put the memory there.
    public enum Source: String, Sendable, Hashable, CaseIterable {
        /// A person: the user in the REPL or `chat`, a session's opening or injected message
        /// (written by whoever wrote the session), an operator's `memory add`.
        case person
        /// A persona: text a model generated.
        case persona
        /// An import that did not keep (or could not prove) who wrote it.
        case `import`
    }

    /// How it was taken from what the source said.
    public enum Method: String, Sendable, Hashable, CaseIterable {
        /// The words as said.
        case verbatim
        /// A sentence of it, picked out by rules.
        case rules
        /// What a model read in it.
        case model
        /// A summary of it.
        case summary
        /// Brought in by `memory import`.
        case imported
    }

    /// `stated` (someone's own words) or `inferred` (what a model made of them): the older,
    /// coarser field, still written for readers of it.
    public enum Basis: String, Sendable, Hashable {
        case stated, inferred
    }

    /// `user`, a persona's name, or (for an opening or injection) the name it was said as.
    public var saidBy: String
    public var conversation: String
    public var turn: Int
    public var source: Source
    public var method: Method

    public init(saidBy: String, conversation: String, turn: Int, source: Source, method: Method) {
        self.saidBy = saidBy
        self.conversation = conversation
        self.turn = turn
        self.source = source
        self.method = method
    }

    public var basis: Basis { method == .verbatim || method == .rules ? .stated : .inferred }

    /// The highest rank: what a person said, in their words.
    public static let highestTrust = 4

    /// How far the memory is to be believed, from ``highestTrust`` (a person's own words) down
    /// to 0 (a model's reading of a model's text). A memory without provenance was written by
    /// an operator: a person (``highestTrust``).
    public var trust: Int {
        switch (source, method) {
        case (.person, .verbatim), (.person, .rules): return 4
        case (.person, _): return 3
        case (.import, _): return 2
        case (.persona, .verbatim), (.persona, .rules): return 1
        case (.persona, _): return 0
        }
    }

    /// The trust of a record: its provenance's, or a person's when it has none.
    public static func trust(of metadata: JSONValue?) -> Int {
        Provenance(metadata)?.trust ?? highestTrust
    }

    /// The metadata fields that carry it.
    public var metadata: [String: JSONValue] {
        [
            "said_by": .string(saidBy), "conversation": .string(conversation), "turn": .number(Double(turn)),
            "by": .string(source.rawValue), "method": .string(method.rawValue), "basis": .string(basis.rawValue),
        ]
    }

    /// The provenance a record's metadata carries, if any. Records written before `by` and
    /// `method` existed read as the user's or a persona's, by their `basis`.
    public init?(_ metadata: JSONValue?) {
        guard case .object(let m)? = metadata, case .string(let saidBy)? = m["said_by"], case .string(let conversation)? = m["conversation"],
            case .number(let turn)? = m["turn"]
        else { return nil }
        var source: Source = saidBy == "user" ? .person : .persona
        if case .string(let by)? = m["by"] {
            guard let known = Source(rawValue: by) else { return nil }
            source = known
        }
        var method: Method
        if case .string(let how)? = m["method"] {
            guard let known = Method(rawValue: how) else { return nil }
            method = known
        } else if case .string(let basis)? = m["basis"], let old = Basis(rawValue: basis) {
            method = old == .stated ? .rules : .model
        } else {
            return nil
        }
        self.init(saidBy: saidBy, conversation: conversation, turn: Int(turn), source: source, method: method)
    }

    /// `said by user in turn 3 · a person's words, trust 4/4`, `read by a model from what
    /// hestia said in turn 2 · a model's text, trust 0/4`.
    public var summary: String {
        let whose: String
        switch source {
        case .person: whose = "a person's words"
        case .persona: whose = "a model's text"
        case .import: whose = "imported"
        }
        let how: String
        switch method {
        case .verbatim, .rules: how = "said by \(saidBy)"
        case .model: how = "read by a model from what \(saidBy) said"
        case .summary: how = "summarised from what \(saidBy) said"
        case .imported: how = saidBy == "import" ? "imported" : "imported as \(saidBy)'s"
        }
        let when = turn > 0 ? " in turn \(turn)" : ""
        return "\(how)\(when) · \(whose), trust \(trust)/\(Self.highestTrust)"
    }
}
