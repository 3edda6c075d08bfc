import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRetrieval
import TroupeStore

extension ReplSession {
    func command(_ line: String, output: some ReplOutput) async throws -> Outcome {
        let name = String(line.dropFirst().prefix { !$0.isWhitespace })
        let argument = line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        let persona = try await runtime.persona(current.rawValue)
        switch name {
        case "help", "h", "?":
            Self.help.split(separator: "\n", omittingEmptySubsequences: false).forEach { output.line(String($0)) }
        case "quit", "q", "exit":
            return .quit
        case "personas":
            for p in runtime.personas { output.line("\(p.name == current ? "*" : " ") \(p.name)  \(p.role)") }
        case "switch":
            current = try runtime.definition(try required(argument, "a persona's name")).name
            output.line("now talking with \(current)")
        case "recall":
            let hits = try await persona.recall(try required(argument, "a query"))
            if hits.isEmpty { output.line("nothing recalled") }
            for (i, hit) in hits.enumerated() { RecallText.lines(hit, rank: i + 1, why: true).forEach(output.line) }
        case "why":
            guard let turn = await conversation.lastTurn else {
                output.line("no reply yet")
                return .ok
            }
            Self.why(turn).forEach(output.line)
        case "remember":
            let text = try required(argument, "what to remember")
            // After the facts of the turns before (a late one would undo this one).
            await conversation.settleFormation()
            let provenance = Provenance(
                saidBy: "user", conversation: conversation.id, turn: await conversation.turns.count, source: .person, method: .verbatim)
            let written = try await MemoryFormation(persona: persona, runtime: runtime).keep([Fact(text: text, speaker: "user")], provenance: provenance)
            if written.isEmpty { output.line("already remembered (the same, said before)") }
            for w in written { output.line("\(w.what.rawValue) \(w.id): \(w.content)" + (w.flagged.map { " [flagged: \($0)]" } ?? "")) }
        case "forget":
            let receipt = try await persona.forget(try required(argument, "a memory's id"), reason: "forgotten in the REPL")
            output.line("forgot \(receipt.id): \(receipt.versions) version\(receipt.versions == 1 ? "" : "s") removed")
        case "memory":
            let items: [MemoryRecord]
            if argument.isEmpty || argument == "working" {
                items = try await persona.workingMemory()
            } else {
                guard let slice = SliceKind(rawValue: argument) else {
                    throw TroupeError(.invalidInput, "'\(argument)' is not a slice (\(SliceKind.names))")
                }
                items = try await runtime.store.query(MemoryQuery(owners: persona.readableOwners, slices: [slice], limit: 50))
            }
            if items.isEmpty { output.line("nothing in \(current)'s \(argument.isEmpty ? "working" : argument) memory") }
            for r in items {
                let provenance = Provenance(r.metadata).map { "  (\($0.summary))" } ?? ""
                output.line("\(r.id)  \(r.owner)/\(r.slice.rawValue)\(provenance)  \(r.content.replacingOccurrences(of: "\n", with: " "))")
            }
        case "history":
            let history = try await persona.history(try required(argument, "a memory's id"))
            if let gone = history.forgotten { output.line("forgotten at \(Timestamp.format(gone.forgottenAt))") }
            for v in history.versions {
                output.line("v\(v.version)  \(Timestamp.format(v.validFrom)) → \(v.validTo.map(Timestamp.format) ?? "current")  by \(v.source)")
                output.line("    " + v.content.replacingOccurrences(of: "\n", with: "\n    "))
            }
        case "save":
            let path = try required(argument, "a file")
            let text = Transcript.markdown(await conversation.turns, title: "Conversation \(conversation.id)")
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw TroupeError(.invalidInput, "cannot write the transcript", context: path, cause: error)
            }
            output.line("saved \(await conversation.turns.count) turns to \(path)")
        default:
            var message = "unknown command ':\(name)'"
            let known = ["help", "quit", "personas", "switch", "recall", "why", "remember", "forget", "memory", "history", "save"]
            if let guess = Suggestion.closest(to: name, in: known) { message += " (did you mean ':\(guess)'?)" }
            throw TroupeError(.invalidInput, message + "; :help lists them")
        }
        return .ok
    }

    private func required(_ argument: String, _ what: String) throws -> String {
        guard !argument.isEmpty else { throw TroupeError(.invalidInput, "this command needs \(what)") }
        return argument
    }

    /// What `:why` shows of a turn.
    static func why(_ turn: TurnRecord) -> [String] {
        let t = turn.timings
        var out = [
            "turn \(turn.number): \(turn.speaker) to \(turn.persona), answered by \(turn.backend.kind) (\(turn.backend.model)), "
                + "\(turn.promptTokens) prompt and \(turn.completionTokens) reply tokens, \(turn.finish.rawValue)"
                + (turn.failure.map { ", failed: \($0)" } ?? ""),
            String(format: "time: recall %.1f ms, prompt %.1f ms, first token %@, model %.0f ms, storing %.1f ms", t.recall, t.assembly,
                   t.firstToken.map { String(format: "%.0f ms", $0) } ?? "-", t.model, t.storing),
        ]
        if turn.dropped.exchange + turn.dropped.memories + turn.dropped.notes > 0 {
            out.append("left out to fit the context: \(turn.dropped.exchange) earlier exchanges, \(turn.dropped.memories) memories, \(turn.dropped.notes) notes")
        }
        out.append(turn.recalled.isEmpty ? "recalled nothing" : "recalled:")
        for (i, hit) in turn.recalled.enumerated() { out += RecallText.lines(hit, rank: i + 1, why: true).map { "  " + $0 } }
        out.append("wrote:")
        for w in turn.written {
            var text = "  \(w.what.rawValue)  \(w.id)  \(w.slice.rawValue)"
            if let version = w.replacedVersion { text += "  (version \(version) ended)" }
            if let disputed = w.disputes { text += "  (disputes \(disputed), which stays: it was said with more trust)" }
            if let flagged = w.flagged { text += "  [flagged: \(flagged)]" }
            out.append(text + "  " + w.content.replacingOccurrences(of: "\n", with: " "))
        }
        return out
    }
}
