import Foundation
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeStore

/// A fact to keep in semantic memory: its text and what it says (subject, attribute, value;
/// see ``FactShape``).
public struct Fact: Sendable, Hashable {
    public var text: String
    /// Lower-cased; the speaker for facts in the first person.
    public var subject: String
    /// What rules read in it; `nil` when they cannot tell its subject and verb.
    public var shape: FactShape?
    /// What a capable model read in it, grounded in the sentence (see ``ModelReading``).
    public var reading: ModelReading?

    public init(text: String, speaker: String, subject: String? = nil) {
        self.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        shape = FactShape.of(self.text, speaker: speaker)
        if let subject { shape?.subject = subject.lowercased() }
        self.subject = shape?.subject ?? subject?.lowercased() ?? FactReading.subject(of: self.text, speaker: speaker) ?? speaker.lowercased()
    }
}

/// Something said to a persona, as formation takes it: the words, who said them, and whether a
/// person said them or a model generated them.
public struct Utterance: Sendable, Hashable {
    public var text: String
    public var speaker: String
    public var source: Provenance.Source

    public init(_ text: String, speaker: String, source: Provenance.Source) {
        (self.text, self.speaker, self.source) = (text, speaker, source)
    }
}

/// Forming facts from what was said, in small stages: extract (rules; a capable model's JSON
/// when one is configured), resolve the subject (``FactShape``), ground (a persona's words only
/// when a person's words support them, see ``Grounding``), match against the persona's facts
/// and decide (``decide(_:provenance:candidates:)``): add, strengthen, supersede, dispute, or
/// nothing for a repetition. Every write goes through the persona, the one write path.
///
/// What a person said is never replaced by a claim of lower trust (see ``Provenance/trust``):
/// such a claim is kept beside it as disputed. Strengthening needs the same value from a second
/// source; never two current memories saying the same, never a fact deleted for a newer one.
struct MemoryFormation {
    let persona: PersonaActor
    let runtime: Runtime

    /// What to do with a fact, given the persona's facts nearest to it.
    enum Decision: Equatable {
        /// A new fact.
        case add
        /// The same value said again by the same source (or by one of lower trust): nothing to write.
        case repeated(MemoryRecord)
        /// The same value from another person: the fact's importance grows.
        case strengthen(MemoryRecord)
        /// A new value for the same subject and attribute, of at least the old fact's trust.
        case supersede(MemoryRecord)
        /// A new value from a source of lower trust than the fact's: kept beside it, disputed.
        case dispute(MemoryRecord)
    }

    /// The tag a disputed claim carries.
    static let disputedTag = "disputed"

    /// The fact in `message` when it asks to be remembered ("remember that …", "remember: …").
    static func explicit(_ message: String) -> String? {
        // The first paragraph: what follows is context (a session's "before that, … said").
        let first = message.components(separatedBy: "\n\n").first ?? message
        let trimmed = first.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = trimmed.lowercased()
        for prefix in ["please remember that ", "remember that ", "remember: ", "remember, "] where lower.hasPrefix(prefix) {
            let fact = String(trimmed.dropFirst(prefix.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            return fact.isEmpty ? nil : fact
        }
        return nil
    }

    /// Forms the facts in `said`: extracted, grounded when a model wrote them, kept. What was
    /// written or changed.
    func form(_ said: Utterance, conversation: String, turn: Int, backend: (any ChatBackend)?) async throws -> [TurnRecord.Written] {
        var (facts, method) = await extract(said.text, speaker: said.speaker, backend: backend)
        if said.source == .persona {
            switch persona.definition.memory.formationFromReplies {
            case .off: return []
            case .grounded: facts = try await Grounding(runtime: runtime).supported(facts, saidBy: said.speaker, to: persona)
            case .all: break
            }
        }
        let provenance = Provenance(saidBy: said.speaker, conversation: conversation, turn: turn, source: said.source, method: method)
        return try await keep(facts, provenance: provenance)
    }

    /// Keeps each fact; what was written or changed.
    func keep(_ facts: [Fact], provenance: Provenance) async throws -> [TurnRecord.Written] {
        var written: [TurnRecord.Written] = []
        for fact in facts where !fact.text.isEmpty {
            if let change = try await keep(fact, provenance: provenance) { written.append(change) }
        }
        return written
    }

    /// Two texts are the same fact when they say the same words.
    static func normalized(_ text: String) -> String {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
    }

    /// The decision for `fact`, said with `provenance`, among the persona's current facts
    /// nearest to it (best first).
    static func decide(_ fact: Fact, provenance: Provenance, candidates: [MemoryRecord]) -> Decision {
        func sameValue(_ record: MemoryRecord) -> Decision {
            let sameSource = Provenance(record.metadata)?.saidBy == provenance.saidBy
            return sameSource || provenance.trust < Provenance.highestTrust - 1 ? .repeated(record) : .strengthen(record)
        }
        let text = normalized(fact.text)
        if let same = candidates.first(where: { normalized($0.content) == text }) { return sameValue(same) }
        if fact.reading != nil {
            for record in candidates {
                switch ModelReading.match(fact, record) {
                case .same?: return sameValue(record)
                case .replaces?: return replacing(record, provenance: provenance)
                case nil: continue
                }
            }
        }
        guard let shape = fact.shape else { return .add }
        for record in candidates {
            guard let old = Self.shape(of: record), FactShape.sameAttribute(old, shape, speaker: provenance.saidBy) else { continue }
            if old.value == shape.value { return sameValue(record) }
            guard shape.singleValued || old.singleValued else { continue }
            return replacing(record, provenance: provenance)
        }
        // The value of a kept fact said again in other words, about the same thing.
        if let same = candidates.first(where: { record in
            Self.shape(of: record).map { FactShape.restates(fact.text, shape: shape, speaker: provenance.saidBy, old: $0, oldText: record.content) } ?? false
        }) {
            return sameValue(same)
        }
        return .add
    }

    /// A new value for `record`'s attribute: it supersedes, or is kept beside it as disputed
    /// when said with less trust.
    static func replacing(_ record: MemoryRecord, provenance: Provenance) -> Decision {
        // A later turn of the same conversation changed it already: formation of an earlier
        // turn, done late (a background job behind the next turn's "remember"), never brings
        // the old value back.
        if let kept = Provenance(record.metadata), kept.conversation == provenance.conversation, kept.turn > provenance.turn {
            return .repeated(record)
        }
        return provenance.trust >= Provenance.trust(of: record.metadata) ? .supersede(record) : .dispute(record)
    }

    /// What a kept fact says: from its metadata, or read again from its text.
    static func shape(of record: MemoryRecord) -> FactShape? {
        if case .object(let m)? = record.metadata, case .string(let subject)? = m["subject"], case .string(let attribute)? = m["attribute"],
            case .string(let value)? = m["value"]
        {
            var single = false, change = false
            if case .bool(let flag)? = m["single_valued"] { single = flag }
            if case .bool(let flag)? = m["change"] { change = flag }
            return FactShape(subject: subject, attribute: attribute, value: value, singleValued: single, isChange: change)
        }
        return FactShape.of(record.content, speaker: Provenance(record.metadata)?.saidBy ?? "user")
    }

    private func keep(_ fact: Fact, provenance: Provenance) async throws -> TurnRecord.Written? {
        guard var written = try await write(fact, provenance: provenance) else { return nil }
        written.provenance = provenance
        return written
    }

    private func write(_ fact: Fact, provenance: Provenance) async throws -> TurnRecord.Written? {
        var metadata = provenance.metadata
        metadata["subject"] = .string(fact.subject)
        if let shape = fact.shape {
            metadata["attribute"] = .string(shape.attribute)
            metadata["value"] = .string(shape.value)
            metadata["single_valued"] = .bool(shape.singleValued)
            metadata["change"] = .bool(shape.isChange)
        }
        if let reading = fact.reading { metadata["reading"] = reading.metadata }
        var candidates = try await persona.recall(fact.text, slices: [.semantic], limit: 8)
            .map(\.record).filter { $0.owner == persona.name }
        var tags: [String] = []
        if let reading = fact.reading {
            // Facts of the same label share no words ("My daily ride is a VW Golf", "I now
            // commute in a Tesla"): found by the label's tag.
            tags = [reading.tag]
            let labelled = try await runtime.store.query(MemoryQuery(owners: [persona.name], slices: [.semantic], tag: reading.tag, limit: 8))
            candidates += labelled.filter { record in !candidates.contains { $0.id == record.id } }
        }
        switch Self.decide(fact, provenance: provenance, candidates: candidates) {
        case .repeated:
            return nil
        case .strengthen(let old):
            let importance = min(1, old.importance + 0.1)
            let next = try await persona.update(old.id, basedOn: old.version, change: MemoryChange(importance: importance))
            return .init(what: .strengthened, id: next.current.id, slice: .semantic, content: next.current.content)
        case .supersede(let old):
            var text = fact.text
            // An ending carries nothing: what qualified the old value ended with it.
            if fact.reading?.ends != true, let carried = Self.carried(from: old, into: fact, provenance: provenance) {
                text += " [\(carried)]"
                metadata["carried"] = .string(carried)
            }
            let next = try await persona.update(
                old.id, basedOn: old.version,
                change: MemoryChange(content: text, tags: old.tags.filter { !ModelReading.isTag($0) } + tags, metadata: .some(.object(metadata))))
            return .init(what: .superseded, id: next.current.id, slice: .semantic, content: text, replacedVersion: old.version)
        case .dispute(let old):
            metadata["disputes"] = .string(old.id)
            let record = try await persona.remember(fact.text, in: .semantic, importance: 0.4, tags: [Self.disputedTag] + tags, metadata: .object(metadata))
            return .init(what: .disputed, id: record.id, slice: .semantic, content: record.content, disputes: old.id)
        case .add:
            let record = try await persona.remember(fact.text, in: .semantic, importance: 0.6, tags: tags, metadata: .object(metadata))
            return .init(
                what: .fact, id: record.id, slice: .semantic, content: record.content,
                flagged: record.tags.contains(InstructionLikeText.tag) ? InstructionLikeText.reason(record.content) : nil)
        }
    }

    /// What of the superseded fact's sentence still stands beside the new value (see
    /// ``FactShape/carried(from:speaker:into:shape:)``), written after the new sentence in
    /// brackets, as an editor marks words carried into a quotation. Only between facts of the
    /// same trust: a claim never lends its words to a person's fact (it could not supersede it
    /// anyway), nor a person's words to a claim.
    static func carried(from old: MemoryRecord, into fact: Fact, provenance: Provenance) -> String? {
        guard let shape = fact.shape, Provenance.trust(of: old.metadata) == provenance.trust else { return nil }
        let speaker = Provenance(old.metadata)?.saidBy ?? provenance.saidBy
        return FactShape.carried(from: old.content, speaker: speaker, into: fact.text, shape: shape)
    }

    static func field(_ name: String, of record: MemoryRecord) -> String? {
        guard case .object(let m)? = record.metadata, case .string(let value)? = m[name] else { return nil }
        return value
    }

    // MARK: Extraction

    /// The facts worth keeping in a message: the sentences rules pick out, as said. With a
    /// capable model (an OpenAI-compatible server, not the embedded toy model nor the offline
    /// one) each is also labelled with what it says, where the label is grounded in it (see
    /// ``ModelReading``); the text is never the model's.
    func extract(_ message: String, speaker: String, backend given: (any ChatBackend)? = nil) async -> (facts: [Fact], method: Provenance.Method) {
        let facts = FactReading.sentences(message, speaker: speaker)
        var backend = given
        if backend == nil, !facts.isEmpty { backend = try? await runtime.chatBackend(for: persona.definition).backend }
        guard let backend, Self.readsFacts(backend.description), !facts.isEmpty else { return (facts, .rules) }
        return (await ModelReading.label(facts, speaker: speaker, backend: backend), .rules)
    }

    /// Whether a backend's reading of facts is trusted beyond the rules: a server the operator
    /// chose (any OpenAI-compatible one), never the embedded 135M model or the offline one.
    static func readsFacts(_ backend: BackendDescription) -> Bool {
        !["offline", "embedded", "scripted", "replay"].contains(backend.kind)
    }
}
