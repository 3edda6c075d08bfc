import Foundation
import TroupeCore
import TroupeLLM
import TroupeRetrieval

/// A fact to keep in semantic memory: its text, whom it is about, and what about them (for
/// telling a new fact from one that contradicts an old one).
public struct Fact: Sendable, Hashable {
    public var text: String
    /// Lower-cased; the speaker for facts in the first person.
    public var subject: String
    /// `location`, `employer`, `schedule`, `age`; `nil` when several may hold at once.
    public var relation: String?

    public init(text: String, speaker: String, subject: String? = nil, relation: String? = nil) {
        self.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.subject = subject?.lowercased() ?? FactReading.subject(of: self.text, speaker: speaker) ?? speaker
        self.relation = relation ?? FactReading.relation(of: self.text)
    }
}

/// Keeping facts: a near-duplicate strengthens the memory it repeats, a contradiction
/// supersedes the fact it contradicts (the old version ends and stays in the history), anything
/// else is a new semantic memory. Never two current memories saying the same, never a fact
/// deleted for a newer one.
struct MemoryFormation {
    let persona: PersonaActor
    let runtime: Runtime

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

    /// Keeps each fact; what was written or changed.
    func keep(_ facts: [Fact], provenance: Provenance) async throws -> [TurnRecord.Written] {
        var written: [TurnRecord.Written] = []
        for fact in facts where !fact.text.isEmpty { written.append(try await keep(fact, provenance: provenance)) }
        return written
    }

    /// Two texts are the same fact when they say the same words.
    static func normalized(_ text: String) -> String {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
    }

    private func keep(_ fact: Fact, provenance: Provenance) async throws -> TurnRecord.Written {
        var metadata = provenance.metadata
        metadata["subject"] = .string(fact.subject)
        if let relation = fact.relation { metadata["relation"] = .string(relation) }
        let candidates = try await persona.recall(fact.text, slices: [.semantic], limit: 8)
            .filter { $0.record.owner == persona.name }
        for hit in candidates {
            let subject = Self.field("subject", of: hit.record)
            let cosine = hit.components.first { $0.name == "semantic" }?.raw ?? 0
            let same = Self.normalized(hit.record.content) == Self.normalized(fact.text)
            if same || (subject == fact.subject && cosine >= 0.95) {
                let importance = min(1, hit.record.importance + 0.1)
                let next = try await persona.update(hit.record.id, basedOn: hit.record.version, change: MemoryChange(importance: importance))
                return .init(what: .strengthened, id: next.current.id, slice: .semantic, content: next.current.content)
            }
        }
        if let relation = fact.relation,
            let old = candidates.first(where: { Self.field("subject", of: $0.record) == fact.subject && Self.field("relation", of: $0.record) == relation })
        {
            let next = try await persona.update(
                old.record.id, basedOn: old.record.version, change: MemoryChange(content: fact.text, metadata: .some(.object(metadata))))
            return .init(what: .superseded, id: next.current.id, slice: .semantic, content: fact.text, replacedVersion: old.record.version)
        }
        let record = try await persona.remember(fact.text, in: .semantic, importance: 0.6, metadata: .object(metadata))
        return .init(
            what: .fact, id: record.id, slice: .semantic, content: record.content,
            flagged: record.tags.contains(InstructionLikeText.tag) ? InstructionLikeText.reason(record.content) : nil)
    }

    static func field(_ name: String, of record: MemoryRecord) -> String? {
        guard case .object(let m)? = record.metadata, case .string(let value)? = m[name] else { return nil }
        return value
    }

    // MARK: Extraction

    /// The facts worth keeping in a message: through the model (`backend`, or the runtime's for
    /// the persona), with a JSON answer, when there is one; by reading the sentences otherwise
    /// (or when the model's answer is not usable).
    func extract(_ message: String, speaker: String, backend given: (any ChatBackend)? = nil) async -> (facts: [Fact], basis: Provenance.Basis) {
        var backend = given
        if backend == nil { backend = try? await runtime.chatBackend(for: persona.definition).backend }
        if let backend, backend.description.kind != "offline",
            let facts = await FactReading.byModel(message, speaker: speaker, backend: backend), !facts.isEmpty
        {
            return (facts, .inferred)
        }
        return (FactReading.sentences(message, speaker: speaker), .stated)
    }
}
