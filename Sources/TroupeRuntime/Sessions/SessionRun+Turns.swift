import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeStore

extension SessionRun {
    /// The backend a persona answers with: the log's replies while replaying, else its live
    /// backend, recorded.
    func backend(for persona: PersonaID) async throws -> any ChatBackend {
        let live = try await runtime.chatBackend(for: runtime.definition(persona.rawValue)).backend
        return replaying ? ReplayBackend(book: book, fallback: live.description) : RecordingBackend(inner: live, book: book)
    }

    var sampling: SamplingOptions {
        SamplingOptions(temperature: definition.temperature, topP: 1, topK: 40, repetitionPenalty: 1.1, maxTokens: definition.maxTokens, seed: definition.seed)
    }

    /// One turn of one speaker, in its own id scope.
    mutating func turn(round: Int, speaker: PersonaID, said: Utterance, quoting: Utterance? = nil, choice: JSONValue? = nil) async throws {
        let scope = "r\(round)/\(speaker)"
        await conversation.setBackend(try await backend(for: speaker), for: speaker)
        let (conversation, sampling) = (conversation, sampling)
        let record = try await SessionIDs.$scope.withValue(scope) {
            try await conversation.turn(
                said.text, to: speaker.rawValue, from: said.speaker, source: said.source, quoting: quoting, sampling: sampling)
        }
        let shared = try await recordDecisions(record, round: round, speaker: speaker)
        try logTurn(SessionLog.Turn(round: round, scope: scope, record: record, shared: shared, calls: book.calls(of: scope)), choice: choice)
        lastSpeaker = speaker
        lastReply = (speaker.rawValue, record.reply)
    }

    /// The reply's decisions (`Decision:` anywhere on a line), written to the session's decisions slice by the speaker.
    func recordDecisions(_ record: TurnRecord, round: Int, speaker: PersonaID) async throws -> [SessionLog.SharedEntry] {
        guard let slice = definition.decisions, record.complete else { return [] }
        let lines = SessionReplyReading.decisions(in: record.reply)
        var entries: [SessionLog.SharedEntry] = []
        let runtime = runtime
        for line in lines {
            let outcome = try await SessionIDs.$scope.withValue("r\(round)/\(speaker)/decision") {
                try await runtime.persona(speaker.rawValue).share(line, in: slice)
            }
            entries.append(.init(slice: slice.rawValue, record: outcome.current.id, base: 0, outcome: outcome.kind.rawValue, audit: outcome.audit, content: line))
        }
        return entries
    }

    /// Adds a finished turn to the log and the progress line.
    mutating func logTurn(_ turn: SessionLog.Turn, choice: JSONValue? = nil) throws {
        let replayed = replaying
        turns.append(turn)
        tokens += turn.record.completionTokens
        if !replayed || runner.options.replay != nil {
            var line = SessionLog.line(turn)
            if let choice, case .object(var o) = line {
                o["choice"] = choice
                line = .object(o)
            }
            if !(runner.options.resume && replayed) { try log.append(line) }
        }
        let t = turn.record
        runner.options.progress(String(
            format: "round %d/%d %@%@: %d tokens, %.1f s (elapsed %.0f s)", turn.round, definition.maxRounds, t.persona.rawValue,
            replayed ? " (from the log)" : "", t.completionTokens, (t.timings.model + t.timings.overhead) / 1000, Date().timeIntervalSince(startedAt)))
    }

    /// Everyone answers the round's prompt at once; with a slice, each then writes its answer
    /// over the round's record in it, based on the version all of them read, so that the
    /// slice's conflict policy decides (the coordinator's group commit sees them together).
    mutating func parallelRound(_ parallel: SessionDefinition.ParallelRound) async throws {
        let round = parallel.round
        var target: (id: String, version: Int)?
        if let slice = parallel.slice, let writer = definition.personas.first(where: { runtime.registry.memberships(of: $0).contains(slice) }) {
            let runtime = runtime
            let outcome = try await SessionIDs.$scope.withValue("r\(round)/parallel") {
                try await runtime.persona(writer.rawValue).share("Round \(round) — \(parallel.prompt)", in: slice)
            }
            target = (outcome.current.id, outcome.current.version)
        }
        var backends: [PersonaID: any ChatBackend] = [:]
        for persona in definition.personas { backends[persona] = try await backend(for: persona) }
        for (persona, backend) in backends { await conversation.setBackend(backend, for: persona) }
        let (conversation, sampling, personas) = (conversation, sampling, definition.personas)
        // A round that opens the session delivers the opening with its prompt: both are the
        // words of whoever wrote the session.
        let opening = definition.opening
        let said = turns.isEmpty && lastReply == nil
            ? Utterance(opening.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n" + parallel.prompt, speaker: opening.from, source: .person)
            : Utterance(parallel.prompt, speaker: opening.from, source: .person)
        // The replies, concurrently (each turn in its own scope, so ids do not depend on order).
        let records = try await withThrowingTaskGroup(of: (PersonaID, TurnRecord).self) { group in
            for persona in personas {
                group.addTask {
                    try await SessionIDs.$scope.withValue("r\(round)/\(persona)") {
                        (persona, try await conversation.turn(said.text, to: persona.rawValue, from: said.speaker, source: said.source, sampling: sampling))
                    }
                }
            }
            return try await group.reduce(into: [PersonaID: TurnRecord]()) { $0[$1.0] = $1.1 }
        }
        var shared: [PersonaID: [SessionLog.SharedEntry]] = [:]
        if let target, let slice = parallel.slice {
            shared = try await sharedWrites(round: round, slice: slice, target: target, replies: records)
        }
        for persona in personas {
            let scope = "r\(round)/\(persona)"
            try logTurn(SessionLog.Turn(round: round, scope: scope, record: records[persona]!, shared: shared[persona] ?? [], calls: book.calls(of: scope)))
        }
        lastReply = ("everyone", personas.map { "\($0): \(records[$0]!.reply)" }.joined(separator: "\n"))
    }

    /// Each persona's answer written over `target`, based on the version they all read. Live,
    /// at once; replayed, in the order they were resolved (the write that applied, then the stale
    /// ones by audit number), which gives the same outcomes.
    private func sharedWrites(
        round: Int, slice: PersonaID, target: (id: String, version: Int), replies: [PersonaID: TurnRecord]
    ) async throws -> [PersonaID: [SessionLog.SharedEntry]] {
        let runtime = runtime
        func write(_ persona: PersonaID) async throws -> SessionLog.SharedEntry {
            let text = "Round \(round) — \(persona): \(replies[persona]!.reply)"
            let outcome: SharedWriteOutcome
            do {
                outcome = try await SessionIDs.$scope.withValue("r\(round)/\(persona)/shared") {
                    try await runtime.persona(persona.rawValue).update(target.id, basedOn: target.version, change: MemoryChange(content: text))
                }
            } catch let error as TroupeError where error.code == .conflict {
                // The audit line's number is in the refusal's message.
                let number = error.message.range(of: #"audit #(\d+)"#, options: .regularExpression)
                    .flatMap { Int64(error.message[$0].dropFirst("audit #".count)) }
                return .init(slice: slice.rawValue, record: target.id, base: target.version, outcome: "rejected", audit: number, content: text)
            }
            return .init(slice: slice.rawValue, record: target.id, base: target.version, outcome: outcome.kind.rawValue, audit: outcome.audit, content: text)
        }
        var entries: [PersonaID: [SessionLog.SharedEntry]] = [:]
        if replaying {
            for persona in replayOrder(round: round) { entries[persona] = [try await write(persona)] }
        } else {
            try await withThrowingTaskGroup(of: (PersonaID, SessionLog.SharedEntry).self) { group in
                for persona in definition.personas { group.addTask { (persona, try await write(persona)) } }
                for try await (persona, entry) in group { entries[persona] = [entry] }
            }
        }
        return entries
    }

    /// The order a replayed parallel round's shared writes were resolved in: the one that
    /// applied first, then the stale ones by their audit numbers.
    func replayOrder(round: Int) -> [PersonaID] {
        var keyed: [(PersonaID, Int64)] = []
        for persona in definition.personas {
            let line = recordedLines.first { $0["scope"] == .string("r\(round)/\(persona)") }
            guard case .array(let shared)? = line?["shared"], case .object(let entry)? = shared.first else { continue }
            var key: Int64 = 0
            if case .string(let outcome)? = entry["outcome"], outcome != "applied" { key = Int64.max / 2 }
            if case .number(let audit)? = entry["audit"] { key = Int64(audit) }
            keyed.append((persona, key))
        }
        return keyed.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    /// Who speaks in `round`: by the policy, among those allowed after the last speaker;
    /// `nil` when the moderator ends the discussion (`stop.moderator`).
    mutating func nextSpeaker(round: Int) async throws -> PersonaID? {
        let personas = definition.personas
        func allowed(_ next: PersonaID) -> Bool {
            guard let last = lastSpeaker else { return true }
            if !definition.allowRepeat, next == last, personas.count > 1 { return false }
            return definition.transitions[last].map { $0.contains(next) } ?? true
        }
        /// The first allowed persona after the last speaker, in the personas' order.
        func roundRobin() -> PersonaID {
            let start = lastSpeaker.flatMap { personas.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            for offset in 0..<personas.count {
                let candidate = personas[(start + offset) % personas.count]
                if allowed(candidate) { return candidate }
            }
            return personas[start % personas.count]
        }
        switch definition.policy {
        case .roundRobin:
            return roundRobin()
        case .order(let order):
            return order[(turns.count) % order.count]
        case .moderator(let moderator):
            return try await moderatorChoice(moderator, round: round, allowed: personas.filter(allowed), fallback: roundRobin())
        }
    }

    /// The moderator names the next speaker: the model chooses among the allowed names only
    /// (constrained decoding on the embedded backend, a JSON schema on HTTP ones), so even a
    /// 135M model picks a valid speaker. A backend that fails gets the deterministic fallback,
    /// so the session never loops on it or stalls.
    ///
    /// With `stop.moderator`, once every other persona has spoken, the moderator may also
    /// choose ``SessionDefinition/Stop/endOption``: the discussion has made its point.
    private mutating func moderatorChoice(_ moderator: PersonaID, round: Int, allowed: [PersonaID], fallback: PersonaID) async throws -> PersonaID? {
        let scope = "r\(round)/moderator"
        let backend = try await backend(for: moderator)
        let said = lastReply.map { "\($0.from) said: \($0.text)" } ?? "The session opens: \(definition.opening.text)"
        // Who has not been heard yet is said, and listed first: a small model picks what it
        // read first and most often, and a discussion needs everyone in it.
        let spoken = Set(turns.map(\.record.persona))
        var who: [String] = []
        for name in allowed.filter({ !spoken.contains($0) }) + allowed.filter(spoken.contains) {
            let role = (try? runtime.definition(name.rawValue).role) ?? ""
            let heard = spoken.contains(name) ? "" : " (not heard yet)"
            who.append(role.isEmpty ? "- \(name)\(heard)" : "- \(name)\(heard): \(role)")
        }
        let mayEnd = definition.stop.moderator && definition.personas.allSatisfy { $0 == moderator || spoken.contains($0) }
        if mayEnd { who.append("- \(SessionDefinition.Stop.endOption): nobody; the discussion has made its point") }
        let request = ChatRequest(messages: [
            ChatMessage(.system, try runtime.definition(moderator.rawValue).systemPrompt + "\n\nYou moderate a discussion. Name who speaks next."),
            ChatMessage(.user, "\(said)\n\nWho should speak next? One of:\n\(who.joined(separator: "\n"))\n\nAnswer with the name only."),
        ], sampling: SamplingOptions(temperature: 0, topP: 1, topK: 1, repetitionPenalty: 1, maxTokens: 12, seed: definition.seed))
        let names = allowed.map(\.rawValue) + (mayEnd ? [SessionDefinition.Stop.endOption] : [])
        let choice = try? await SessionIDs.$scope.withValue(scope) { try await backend.choose(among: names, for: request) }
        if let choice, choice.index == allowed.count { return nil }
        let named = choice.map { allowed[$0.index] }
        pendingChoice = .object([
            "scope": .string(scope), "moderator": .string(moderator.rawValue), "answer": .string(choice?.text ?? ""),
            "chose": .string((named ?? fallback).rawValue), "fallback": .bool(named == nil),
            "constrained": .bool(choice?.constrained ?? false), "calls": .array(book.calls(of: scope).map(\.json)),
        ])
        return named ?? fallback
    }
}
