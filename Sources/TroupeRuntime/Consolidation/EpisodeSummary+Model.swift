import Foundation
import TroupeCore
import TroupeLLM

extension EpisodeSummary {
    /// A capable model's summary of `turns`, kept sentence by sentence only where one line of
    /// one turn holds every content word of it, in order (``Grounding/supports(_:_:)``): a
    /// sentence the model added, or a claim it merged from two turns, is dropped, and counted.
    /// `nil` when the model answers nothing usable or nothing it says is grounded (the caller
    /// then summarises extractively).
    static func byModel(
        owner: PersonaID, conversation: String, turns: [Turn], persona: String, backend: any ChatBackend
    ) async -> EpisodeSummary? {
        let ordered = turns.sorted { ($0.number, $0.record.createdAt) < ($1.number, $1.record.createdAt) }
        guard let first = ordered.first, let last = ordered.last else { return nil }
        let transcript = ordered.enumerated().map { index, turn in
            "Turn \(index + 1):\n" + turn.lines.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n")
        }.joined(separator: "\n\n")
        let request = ChatRequest(messages: [
            ChatMessage(.system, """
                You summarise a conversation in at most \(maxSentences) short sentences, one a line, each starting with \
                the name of who said it and a colon (user: …). Use only what the turns say, in their own words. \
                No commentary, no advice, nothing that is not said in one turn.
                """),
            ChatMessage(.user, transcript),
        ])
        guard let reply = try? await backend.complete(request) else { return nil }
        var sentences: [Sentence] = []
        var dropped = 0
        for line in reply.text.split(whereSeparator: \.isNewline) {
            var text = line.trimmingCharacters(in: .whitespaces)
            while let head = text.first, "-*•0123456789.) ".contains(head) { text.removeFirst() }
            var speaker: String?
            if let colon = text.firstIndex(of: ":"), !text[..<colon].contains(" ") {
                speaker = String(text[..<colon])
                text = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard FactReading.words(text).count >= 3 else { continue }
            let source = ordered.lazy.flatMap { turn in turn.lines.lazy.map { (turn, $0) } }
                .first { turn, said in (speaker == nil || speaker == said.speaker) && Grounding.supports(said.text, text) }
            guard let (turn, said) = source, sentences.count < maxSentences else {
                dropped += 1
                continue
            }
            sentences.append(Sentence(text: text, speaker: said.speaker, from: turn.record.id, turn: turn.number))
        }
        guard !sentences.isEmpty else { return nil }
        return EpisodeSummary(
            owner: owner, conversation: conversation, sentences: sentences, covers: ordered.map(\.record.id),
            firstTurn: first.number, lastTurn: last.number, from: first.record.createdAt, to: last.record.createdAt,
            summarisedBy: "model:" + backend.description.model, dropped: dropped)
    }
}
