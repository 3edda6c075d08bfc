import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM

/// The decision a session ended with, for its log and transcript.
struct SessionDecision: Sendable {
    var by: PersonaID
    var question: String
    var options: [String]
    var chosen: Int
    /// Whether the backend was held to the options (else it answered free text, read for one).
    var constrained: Bool
    var record: String
    var outcome: String
}

extension SessionRun {
    static let decisionScope = "end/decision"

    /// The session's `decide:` step, after the last round: the decider reads the end of the
    /// discussion and picks one of the options (the model chooses among them only, so a 135M
    /// model gives one of them too), which is written to the decisions slice as theirs. A
    /// replay takes the recorded choice from the log.
    mutating func decide() async throws {
        guard let decide = definition.decide, let slice = definition.decisions else { return }
        let scope = Self.decisionScope
        let backend: any ChatBackend
        if let replay = runner.options.replay {
            for call in try Self.recordedDecisionCalls(replay) { book.append(call, scope: scope) }
            let live = try await runtime.chatBackend(for: runtime.definition(decide.by.rawValue)).backend
            backend = ReplayBackend(book: book, fallback: live.description)
        } else {
            backend = try await self.backend(for: decide.by)
        }
        let said = turns.suffix(6).map { turn in
            let reply = turn.record.reply.replacingOccurrences(of: "\n", with: " ")
            return "\(turn.record.persona): " + (reply.count > 300 ? String(reply.prefix(300)) + " …" : reply)
        }
        let options = decide.options.enumerated().map { "\($0 + 1). \($1)" }.joined(separator: "\n")
        let request = ChatRequest(messages: [
            ChatMessage(.system, try runtime.definition(decide.by.rawValue).systemPrompt + "\n\nYou decide for the team."),
            ChatMessage(.user, "The discussion ended:\n\(said.joined(separator: "\n"))\n\n\(decide.question)\nChoose one:\n\(options)\n\nAnswer with the choice only."),
        ], sampling: SamplingOptions(temperature: 0, topP: 1, topK: 1, repetitionPenalty: 1, maxTokens: 64, seed: definition.seed))
        let runtime = runtime
        let choice = try await SessionIDs.$scope.withValue(scope) { try await backend.choose(among: decide.options, for: request) }
        let outcome = try await SessionIDs.$scope.withValue(scope) {
            try await runtime.persona(decide.by.rawValue).share(decide.options[choice.index], in: slice, tags: ["decision"])
        }
        let decision = SessionDecision(
            by: decide.by, question: decide.question, options: decide.options, chosen: choice.index, constrained: choice.constrained,
            record: outcome.current.id, outcome: outcome.kind.rawValue)
        decided = decision
        try log.append(.object([
            "kind": .string("decision"), "scope": .string(scope), "by": .string(decide.by.rawValue), "question": .string(decide.question),
            "chose": .string(decide.options[choice.index]), "answer": .string(choice.text), "constrained": .bool(choice.constrained),
            "slice": .string(slice.rawValue), "record": .string(outcome.current.id), "outcome": .string(outcome.kind.rawValue),
            "calls": .array(book.calls(of: scope).map(\.json)),
        ]))
        runner.options.progress("decision by \(decide.by): \(decide.options[choice.index])")
    }

    /// The model calls of a recorded run's decision line.
    static func recordedDecisionCalls(_ log: URL) throws -> [RecordedCall] {
        let text: String
        do { text = try String(contentsOf: log, encoding: .utf8) } catch {
            throw TroupeError(.invalidInput, "cannot read the session log", context: log.path, cause: error)
        }
        for line in text.split(separator: "\n") {
            guard case .object(let object)? = try? JSONValue.parse(Array(line.utf8)), object["kind"] == .string("decision"),
                case .array(let calls)? = object["calls"]
            else { continue }
            return calls.compactMap(RecordedCall.init)
        }
        return []
    }
}
