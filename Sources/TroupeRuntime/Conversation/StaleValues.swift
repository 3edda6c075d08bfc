import Foundation
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeStore

/// Values that current memories superseded, and the places in a prompt that still say them.
///
/// Recall already ranks a memory that repeats a superseded value below the fact that replaced it
/// (see ``Recaller/SupersededValue``). The prompt holds text that recall does not rank: the
/// recent exchange ("the launch is on 14 March", and the persona's own reply repeating it) and
/// live notes. A small model answers from what it read last and most often, so each such message
/// is followed, in the prompt only, by what is true now; what was said stays as it was said.
struct StaleValues {
    struct Entry {
        var value: Recaller.SupersededValue
        /// The current memory's text.
        var now: String
    }

    /// A fact a person stated, recalled for the turn, whose value is a number, date, time or
    /// the like: a reply that gives its attribute another value contradicts memory.
    struct Stated {
        var shape: FactShape
        var text: String
        var id: String
    }

    var entries: [Entry] = []
    var stated: [Stated] = []

    /// The values superseded by the current versions of `hits`, read from their histories, and
    /// the person-stated facts among the hits.
    static func of(_ hits: [RecallHit], store: any MemoryStore) async throws -> StaleValues {
        let current = Dictionary(hits.map { ($0.record.id, $0.record.content) }) { first, _ in first }
        let values = try await Recaller.supersededValues(of: hits, in: store)
        let stated = hits.map(\.record).filter { $0.slice == .semantic && Provenance.trust(of: $0.metadata) == Provenance.highestTrust }
            .compactMap { record in
                MemoryFormation.shape(of: record).flatMap { Self.specific($0) ? Stated(shape: $0, text: record.content, id: record.id) : nil }
            }
        return StaleValues(entries: values.map { Entry(value: $0, now: current[$0.current] ?? "") }, stated: stated)
    }

    /// Whether a fact's value is one a reply can get wrong: a number, date, time, percentage,
    /// version or identifier, not words.
    static func specific(_ shape: FactShape) -> Bool {
        shape.valueKinds.contains { $0 != "name" }
    }

    /// The stated fact that `sentence` contradicts: it gives the fact's attribute a value of the
    /// same kind that is not the fact's ("the launch is on 20 March" when memory holds "the
    /// launch moved to 21 March").
    func contradicted(by sentence: String, speaker: String) -> Stated? {
        guard !stated.isEmpty, let said = FactShape.of(sentence, speaker: speaker), Self.specific(said) else { return nil }
        let words = Set(FactShape.words(sentence))
        return stated.first { fact in
            // A model words it its own way ("the launch of the new product is set to take place
            // on March 15th"): the same subject, named by the same noun, and a value of the kind.
            FactShape.head(fact.shape.subject) == FactShape.head(said.subject) && FactShape.sameSubject(fact.shape.subject, said.subject)
                && !fact.shape.valueKinds.intersection(said.valueKinds).subtracting(["name"]).isEmpty
                && !FactShape.words(fact.shape.value).allSatisfy(words.contains)
        }
    }

    /// The stated fact a question asks about when `reply` does not give its value, and no
    /// note in `noted` already says what memory holds: the question ("when is the launch?")
    /// names the fact's subject by its noun, and the fact is the best-recalled such one.
    func unanswered(_ question: String, by reply: String, noted: [TurnRecord.Outdated]) -> Stated? {
        guard question.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("?") else { return nil }
        let asked = Set(FactShape.words(question)), said = Self.words(reply)
        guard let fact = stated.first(where: { fact in FactShape.head(fact.shape.subject).map { asked.contains(String($0)) } ?? false })
        else { return nil }
        let value = Self.words(fact.shape.value)
        guard !value.isEmpty, !value.isSubset(of: said), !noted.contains(where: { $0.id == fact.id }) else { return nil }
        return fact
    }

    /// The note for `text` when it repeats a superseded value: what holds now.
    func note(for text: String) -> String? {
        guard !entries.isEmpty else { return nil }
        let words = Self.words(text)
        return entries.first { $0.value.isRepeated(by: words) }.map { "[No longer true; now: \($0.now.replacingOccurrences(of: "\n", with: " "))]" }
    }

    /// The sentences of `reply` (said by `speaker`) that repeat a superseded value or give a
    /// stated fact's attribute another value, each with what memory holds.
    func outdated(in reply: String, speaker: String) -> [TurnRecord.Outdated] {
        guard !entries.isEmpty || !stated.isEmpty else { return [] }
        var found: [TurnRecord.Outdated] = []
        for sentence in Self.sentences(reply) {
            let words = Self.words(sentence)
            if let entry = entries.first(where: { $0.value.isRepeated(by: words) }) {
                found.append(.init(said: sentence, now: entry.now, id: entry.value.current))
            } else if let fact = contradicted(by: sentence, speaker: speaker) {
                found.append(.init(said: sentence, now: fact.text, id: fact.id, contradicts: true))
            }
        }
        return found
    }

    /// The content words of `text`, ordinals read as their numbers ("March 14th" says 14).
    static func words(_ text: String) -> Set<String> {
        let plain = text.replacingOccurrences(of: #"\b(\d+)(?:st|nd|rd|th)\b"#, with: "$1", options: [.regularExpression, .caseInsensitive])
        return Set(QueryStopwords.contentTokens(plain))
    }

    static func sentences(_ text: String) -> [String] {
        var sentences: [String] = [], current = ""
        for character in text {
            if character.isNewline || ".!?".contains(character) {
                if ".!?".contains(character) { current.append(character) }
                let trimmed = current.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { sentences.append(trimmed) }
                current = ""
            } else {
                current.append(character)
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        return rest.isEmpty ? sentences : sentences + [rest]
    }

    /// `messages` with the note after each one that repeats a superseded value.
    func marking(_ messages: [ChatMessage]) -> [ChatMessage] {
        messages.map { message in
            guard let note = note(for: message.content) else { return message }
            return ChatMessage(message.role, message.content + "\n" + note)
        }
    }
}
