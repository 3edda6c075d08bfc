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

    var entries: [Entry] = []

    /// The values superseded by the current versions of `hits`, read from their histories.
    static func of(_ hits: [RecallHit], store: any MemoryStore) async throws -> StaleValues {
        let current = Dictionary(hits.map { ($0.record.id, $0.record.content) }) { first, _ in first }
        let values = try await Recaller.supersededValues(of: hits, in: store)
        return StaleValues(entries: values.map { Entry(value: $0, now: current[$0.current] ?? "") })
    }

    /// The note for `text` when it repeats a superseded value: what holds now.
    func note(for text: String) -> String? {
        guard !entries.isEmpty else { return nil }
        let words = Self.words(text)
        return entries.first { $0.value.isRepeated(by: words) }.map { "[No longer true; now: \($0.now.replacingOccurrences(of: "\n", with: " "))]" }
    }

    /// The sentences of `reply` that repeat a superseded value, each with what holds now.
    func outdated(in reply: String) -> [TurnRecord.Outdated] {
        guard !entries.isEmpty else { return [] }
        var found: [TurnRecord.Outdated] = []
        for sentence in Self.sentences(reply) {
            let words = Self.words(sentence)
            if let entry = entries.first(where: { $0.value.isRepeated(by: words) }) {
                found.append(.init(said: sentence, now: entry.now, id: entry.value.current))
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
