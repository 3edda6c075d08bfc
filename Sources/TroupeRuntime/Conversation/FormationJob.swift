import Foundation
import TroupeCore
import TroupeStore

/// A turn's automatic memory formation, waiting to be done: what was said (the message, and
/// what it quoted), by whom, to whom.
public struct FormationJob: Sendable, Hashable {
    public var id: String
    public var persona: String
    public var conversation: String
    public var turn: Int
    public var said: [Utterance]
    /// How many times a process has taken the job on (a job that keeps failing waits longer).
    var attempts = 1

    init(id: String, persona: String, conversation: String, turn: Int, said: [Utterance]) {
        (self.id, self.persona, self.conversation, self.turn, self.said) = (id, persona, conversation, turn, said)
    }

    /// The job as the store keeps it, held by `holder` until `until` (or free).
    func queued(at time: Date, holder: String?, until: Date?) -> QueuedFormation {
        let said = JSONValue.array(said.map { .object(["text": .string($0.text), "speaker": .string($0.speaker), "source": .string($0.source.rawValue)]) })
        return QueuedFormation(
            id: id, persona: persona, conversation: conversation, turn: turn, said: said.canonicalText, enqueuedAt: time, holder: holder,
            leaseUntil: until, attempts: holder == nil ? 0 : 1)
    }

    /// A job as the store gave it back; `nil` when what was said cannot be read.
    init?(_ queued: QueuedFormation) {
        guard let value = try? JSONValue.parse(Array(queued.said.utf8)), let said = Self.utterances(value) else { return nil }
        self.init(id: queued.id, persona: queued.persona, conversation: queued.conversation, turn: queued.turn, said: said)
        attempts = max(1, queued.attempts)
    }

    /// A job as a line of the file older versions kept (`<home>/formation/pending.jsonl`); one
    /// written before `said` existed (`speaker` and `message`) reads as the user's words when
    /// the user said them, a model's otherwise.
    init?(line value: JSONValue) {
        guard case .object(let o) = value, case .string(let id)? = o["id"], case .string(let persona)? = o["persona"],
            case .string(let conversation)? = o["conversation"], case .number(let turn)? = o["turn"]
        else { return nil }
        let said: [Utterance]
        if let parts = o["said"] {
            guard let read = Self.utterances(parts) else { return nil }
            said = read
        } else if case .string(let speaker)? = o["speaker"], case .string(let message)? = o["message"] {
            said = [Utterance(message, speaker: speaker, source: speaker == "user" ? .person : .persona)]
        } else {
            return nil
        }
        self.init(id: id, persona: persona, conversation: conversation, turn: Int(turn), said: said)
    }

    /// `[{"text", "speaker", "source"}, …]` as utterances; `nil` if any part is malformed.
    private static func utterances(_ value: JSONValue) -> [Utterance]? {
        guard case .array(let parts) = value else { return nil }
        var said: [Utterance] = []
        for part in parts {
            guard case .object(let part) = part, case .string(let text)? = part["text"], case .string(let speaker)? = part["speaker"],
                case .string(let source)? = part["source"], let kind = Provenance.Source(rawValue: source)
            else { return nil }
            said.append(Utterance(text, speaker: speaker, source: kind))
        }
        return said
    }
}
