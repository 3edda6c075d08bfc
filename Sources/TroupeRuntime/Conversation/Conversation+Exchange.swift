import Foundation
import TroupeCore
import TroupeLLM
import TroupeStore

/// What a turn reads of working memory and what it writes there.
extension Conversation {
    /// The exchange in working memory: this conversation's messages (as chat messages, oldest
    /// first) apart from other notes.
    static func split(_ working: [MemoryRecord], conversation: String, persona: PersonaID) -> ([ChatMessage], [MemoryRecord]) {
        // A turn's message and its reply are written together, at one clock time: the turn
        // number orders turns, the time what came within one, and a reply follows its message.
        var exchange: [(turn: Int, at: Date, reply: Bool, message: ChatMessage)] = []
        var notes: [MemoryRecord] = []
        for item in working {
            guard let p = Provenance(item.metadata), p.conversation == conversation else {
                notes.append(item)
                continue
            }
            let role: ChatRole = p.saidBy == persona.rawValue ? .assistant : .user
            let text = role == .user && p.saidBy != "user" ? "\(p.saidBy) says: \(item.content)" : item.content
            exchange.append((p.turn, item.createdAt, role == .assistant, ChatMessage(role, text)))
        }
        let ordered = exchange.sorted { ($0.turn, $0.at, $0.reply ? 1 : 0) < ($1.turn, $1.at, $1.reply ? 1 : 0) }
        return (ordered.map(\.message), notes)
    }

    /// Stores the message and the reply in working memory and the turn as an episode. A quoted
    /// message is stored as its own, as said by whoever said it: a model's words never sit in
    /// a record under a person's name.
    func store(_ record: TurnRecord, said: Utterance, quoting: Utterance?, persona: PersonaActor) async throws -> [TurnRecord.Written] {
        func provenance(_ utterance: Utterance) -> Provenance {
            Provenance(saidBy: utterance.speaker, conversation: id, turn: record.number, source: utterance.source, method: .verbatim)
        }
        let answered = provenance(Utterance(record.reply, speaker: persona.name.rawValue, source: .persona))
        var items: [(content: String, slice: SliceKind, importance: Double, metadata: JSONValue?)] = []
        var kinds: [TurnRecord.Written.What] = []
        for part in [quoting, said].compactMap({ $0 }) {
            items.append((part.text, .working, 0.5, .object(provenance(part).metadata)))
            kinds.append(.message)
        }
        let partial = !record.complete
        if !record.reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            var meta = answered.metadata
            if partial { meta["partial"] = .bool(true) }
            items.append((record.reply, .working, 0.5, .object(meta)))
            kinds.append(.reply)
        }
        var episode = provenance(said).metadata
        episode["method"] = .string(Provenance.Method.summary.rawValue)  // the person's words and a model's, together
        episode["basis"] = .string(Provenance.Basis.inferred.rawValue)
        episode["recalled"] = .array(record.recalled.map { .string($0.record.id) })
        episode["backend"] = .string(record.backend.kind + ":" + record.backend.model)
        if partial { episode["partial"] = .bool(true) }
        if let failure = record.failure { episode["failure"] = .string(failure) }
        let text = "\(record.speaker): \(record.message)\n\(persona.name): \(record.reply)" + (partial ? " [the reply broke off]" : "")
        items.append((text, .episodic, 0.4, .object(episode)))
        kinds.append(.episode)
        // One embedding batch, one commit.
        let stored = try await persona.remember(items)
        return zip(kinds, stored).map { .init(what: $0, id: $1.id, slice: $1.slice, content: $1.content) }
    }
}
