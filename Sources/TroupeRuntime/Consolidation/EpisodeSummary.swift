import Foundation
import TroupeCore
import TroupeStore

/// A dated summary of one conversation's episodes, made of sentences taken word for word from
/// its turns, each linked to the turn it comes from: nothing in it that no one said.
///
/// Sentences are picked extractively: those that state something (a subject and a verb rules
/// can tell, ``FactReading``) first, a person's before a persona's (whose words count only where
/// they state something), then the longer ones, at most ``maxSentences``; they are written in the order they were said, each after its
/// speaker's name, under a line that dates the conversation.
public struct EpisodeSummary: Sendable, Hashable {
    public struct Sentence: Sendable, Hashable {
        public var text: String
        public var speaker: String
        /// The episode (turn) record it was taken from, and that turn's number.
        public var from: String
        public var turn: Int
    }

    public var owner: PersonaID
    public var conversation: String
    public var sentences: [Sentence]
    /// The episode records it covers, in turn order.
    public var covers: [String]
    public var firstTurn: Int
    public var lastTurn: Int
    public var from: Date
    public var to: Date
    /// `extract`, or `model:NAME` when a capable model wrote it (each sentence grounded in a turn).
    public var summarisedBy = "extract"
    /// The model's sentences left out because no turn holds every content word of them.
    public var dropped = 0

    public static let tag = "summary"
    public static let maxSentences = 8

    /// One turn of a conversation as its episode record holds it.
    package struct Turn {
        package var record: MemoryRecord
        package var number: Int
        /// `speaker: text` lines: what the person said, then the persona's reply.
        package var lines: [(speaker: String, text: String)]
    }

    /// The turn an episode record of `persona` is, if it is one of a conversation (not an
    /// import's, not a summary): `SPEAKER: message` then `PERSONA: reply`, as turns store them.
    package static func turn(_ record: MemoryRecord, persona: String) -> (conversation: String, turn: Turn)? {
        guard record.slice == .episodic, !record.tags.contains(tag), let provenance = Provenance(record.metadata),
            provenance.source != .import, !provenance.conversation.isEmpty
        else { return nil }
        var lines: [(String, String)] = []
        var message = Substring(record.content)
        if let reply = record.content.range(of: "\n\(persona): ", options: .backwards) {
            message = record.content[..<reply.lowerBound]
            lines.append((persona, String(record.content[reply.upperBound...])))
        }
        let speaker = provenance.saidBy
        if message.hasPrefix(speaker + ": ") { lines.insert((speaker, String(message.dropFirst(speaker.count + 2))), at: 0) }
        return (provenance.conversation, Turn(record: record, number: provenance.turn, lines: lines))
    }

    /// The summary of `turns` (one conversation's, any order), or `nil` when none of them states
    /// anything worth a sentence.
    static func make(owner: PersonaID, conversation: String, turns: [Turn], persona: String) -> EpisodeSummary? {
        let ordered = turns.sorted { ($0.number, $0.record.createdAt) < ($1.number, $1.record.createdAt) }
        guard let first = ordered.first, let last = ordered.last else { return nil }
        var candidates: [(sentence: Sentence, score: Double, order: Int)] = []
        for turn in ordered {
            for (speaker, text) in turn.lines {
                for piece in pieces(text) {
                    let words = FactReading.words(piece).count
                    guard words >= 4, !piece.hasSuffix("?") else { continue }
                    let states = !FactReading.sentences(piece, speaker: speaker).isEmpty
                    // A persona's own words count only where they state something (not "I will ask her").
                    guard states || speaker != persona else { continue }
                    var score = Double(min(words, 30)) / 30
                    if states { score += 2 }
                    if speaker != persona { score += 1 }
                    let sentence = Sentence(text: piece, speaker: speaker, from: turn.record.id, turn: turn.number)
                    if !candidates.contains(where: { $0.sentence.text.lowercased() == piece.lowercased() }) {
                        candidates.append((sentence, score, candidates.count))
                    }
                }
            }
        }
        let picked = candidates.sorted { ($0.score, -$0.order) > ($1.score, -$1.order) }.prefix(maxSentences).sorted { $0.order < $1.order }
        guard !picked.isEmpty else { return nil }
        return EpisodeSummary(
            owner: owner, conversation: conversation, sentences: picked.map(\.sentence), covers: ordered.map(\.record.id),
            firstTurn: first.number, lastTurn: last.number, from: first.record.createdAt, to: last.record.createdAt)
    }

    /// The sentences of `text`, each as it stands in it (split after `.`, `!` or `?`, and at line ends).
    package static func pieces(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previous: Character?
        for character in text {
            if character.isNewline || (character.isWhitespace && previous.map { ".!?".contains($0) } == true) {
                let piece = current.trimmingCharacters(in: .whitespaces)
                if !piece.isEmpty { out.append(piece) }
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        let piece = current.trimmingCharacters(in: .whitespaces)
        if !piece.isEmpty { out.append(piece) }
        return out
    }

    /// The record's id: one per conversation and owner, so a longer conversation's summary is
    /// a new version of the same record (the shorter one stays in its history).
    public var id: String {
        "sum-" + SHA256.hex(of: Array((owner.rawValue + "\u{0}" + conversation).utf8)).prefix(24)
    }

    /// `Conversation c1, 2 March 2026 (turns 1–8):` then one `speaker: sentence` line each.
    public var content: String {
        let day = Timestamp.format(to).prefix(10)
        let turns = firstTurn == lastTurn ? "turn \(firstTurn)" : "turns \(firstTurn)–\(lastTurn)"
        return "Conversation \(conversation), \(day) (\(turns)):\n" + sentences.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n")
    }

    /// The summary as an episodic record: dated at its last turn, its provenance a summary of
    /// what `saidBy` said (trust 3/4), the turns it covers and each sentence's turn in metadata.
    func record(saidBy: String) -> MemoryRecord {
        var metadata = Provenance(saidBy: saidBy, conversation: conversation, turn: lastTurn, source: .person, method: .summary).metadata
        metadata["summary_of"] = .string(conversation)
        metadata["covers"] = .array(covers.map(JSONValue.string))
        metadata["from"] = .string(Timestamp.format(from))
        metadata["to"] = .string(Timestamp.format(to))
        metadata["summarised_by"] = .string(summarisedBy)
        if dropped > 0 { metadata["dropped_sentences"] = .number(Double(dropped)) }
        metadata["sentences"] = .array(sentences.map { s in
            .object(["text": .string(s.text), "speaker": .string(s.speaker), "from": .string(s.from), "turn": .number(Double(s.turn))])
        })
        return MemoryRecord(
            id: id, owner: owner, slice: .episodic, content: content, importance: 0.5, tags: [Self.tag], source: "consolidation",
            createdAt: to, metadata: .object(metadata))
    }
}
