import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval

/// A session's `transcript.md`: the title, a heading per turn with who spoke and what they
/// heard (each reply once), the memories a reply could have used as footnotes with their scores, the shared writes and their conflicts, why the run
/// stopped, its expectations, and per persona the memories it gained, changed and superseded.
enum SessionTranscript {
    static func markdown(_ definition: SessionDefinition, turns: [SessionLog.Turn], result: SessionResult, decision: SessionDecision? = nil) -> String {
        func safe(_ text: String) -> String { TerminalText.escaped(text) }
        var out = "# \(safe(definition.title))\n\n"
        out += "Personas: \(definition.personas.map(\.rawValue).joined(separator: ", "))"
        if !definition.shared.isEmpty { out += ". Shared slices: \(definition.shared.map(\.rawValue).joined(separator: ", "))" }
        out += ". Opening, from \(definition.opening.from): \(safe(definition.opening.text))\n"
        var note = 0
        var currentRound = 0
        var previous: TurnRecord?
        for turn in turns {
            let t = turn.record
            if turn.round != currentRound {
                currentRound = turn.round
                out += "\n## Round \(turn.round)\n"
            }
            // Footnotes only for memories the reply could have used: those that share a word
            // with it. The turn record (log.jsonl, `:why`) keeps every memory recalled.
            let used = Set(QueryStopwords.contentTokens(t.reply))
            var marks = ""
            var notes: [String] = []
            for hit in t.recalled where !used.isDisjoint(with: QueryStopwords.contentTokens(hit.record.content)) {
                note += 1
                marks += "[^\(note)]"
                let components = hit.components.map { "\($0.name) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ")
                notes.append("[^\(note)]: \(String(format: "%.3f", hit.score)) (\(components)) \(hit.record.owner)/\(hit.record.slice.rawValue): "
                    + safe(hit.record.content.replacingOccurrences(of: "\n", with: " ")))
            }
            out += "\n### \(t.persona)\n\n" + heard(t, after: previous, safe: safe)
            previous = t
            out += safe(t.reply.isEmpty ? "(no reply)" : t.reply)
            switch t.finish {
            case .length: out += " *(cut: the reply reached its token limit)*"
            case .cancelled: out += " *(stopped)*"
            case .stop: break
            }
            if let failure = t.failure { out += " *(the reply broke off: \(safe(failure)))*" }
            out += (marks.isEmpty ? "" : " " + marks) + "\n"
            for outdated in t.outdated { out += "\n*\(safe(ReplSession.note(outdated)))*\n" }
            for entry in turn.shared {
                out += "\n- wrote to \(entry.slice) (record `\(entry.record)`, based on version \(entry.base)): \(entry.outcome)"
                    + (entry.audit.map { ", audit #\($0)" } ?? "") + "\n"
            }
            if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        }
        if let decision {
            out += "\n## Decision\n\n\(decision.by), asked \"\(safe(decision.question))\", chose: **\(safe(decision.options[decision.chosen]))**"
                + " (of \(decision.options.count) options\(decision.constrained ? "" : "; read from a free answer")); written to"
                + " \(definition.decisions?.rawValue ?? "?") as `\(decision.record)` (\(decision.outcome)).\n"
        }
        var reason = result.stoppedBy
        if reason == "moderator", case .moderator(let moderator) = definition.policy { reason += " (\(moderator) ended the discussion)" }
        out += "\n## How it ended\n\nStopped because of \(reason) after \(result.turns) turns in \(result.rounds) rounds; "
            + "\(result.conflicts) conflicting shared writes resolved.\n"
        if !result.checks.isEmpty {
            out += "\n" + result.checks.map { "- \($0.passed ? "passed" : "FAILED"): \(safe($0.expectation)) — \(safe($0.found))" }.joined(separator: "\n") + "\n"
        }
        out += "\n## What each persona now remembers\n"
        for persona in definition.personas {
            let written = turns.filter { $0.record.persona == persona }.flatMap(\.record.written)
            let gained = written.filter { $0.what == .fact }, changed = written.filter { $0.what == .strengthened }
            let superseded = written.filter { $0.what == .superseded }, disputed = written.filter { $0.what == .disputed }
            // Who said it, and with what trust: a reader can tell a person's fact from a model's.
            func origin(_ w: TurnRecord.Written) -> String { w.provenance.map { " — " + safe($0.summary) } ?? "" }
            out += "\n### \(persona)\n\n"
            if gained.isEmpty && changed.isEmpty && superseded.isEmpty && disputed.isEmpty { out += "No new facts.\n" }
            for w in gained { out += "- gained: \(safe(w.content)) (`\(w.id)`)\(origin(w))\n" }
            for w in changed { out += "- strengthened: \(safe(w.content)) (`\(w.id)`)\(origin(w))\n" }
            for w in superseded { out += "- superseded version \(w.replacedVersion ?? 0) with: \(safe(w.content)) (`\(w.id)`)\(origin(w))\n" }
            for w in disputed {
                out += "- disputed: \(safe(w.content)) (`\(w.id)`)\(origin(w)); it disputes `\(w.disputes ?? "?")`, which stays\n"
            }
            let episodes = written.filter { $0.what == .episode }.count
            out += "- \(episodes) episode\(episodes == 1 ? "" : "s") of this session in episodic memory\n"
        }
        return out
    }

    /// What the speaker of a turn heard, once: the reply of the turn above is only named; any
    /// other message (the opening, an injected one) is given in full.
    private static func heard(_ t: TurnRecord, after previous: TurnRecord?, safe: (String) -> String) -> String {
        if let previous, t.speaker == previous.persona.rawValue, t.message == previous.reply { return "*answering \(safe(t.speaker)):*\n\n" }
        // After a parallel round, the next speaker hears every answer of it (see SessionRun).
        if previous != nil, t.speaker == "everyone" { return "*answering the round above:*\n\n" }
        var said = t.message, after = ""
        if let quote = said.range(of: "\n\n(Before that, ") {
            let quoted = said[quote.upperBound...]
            after = quoted.split(separator: " ", maxSplits: 1).first.map { ", after \($0)" } ?? ""
            said = String(said[..<quote.lowerBound])
        }
        return "*\(safe(t.speaker)) said\(safe(after)):* \(safe(said.replacingOccurrences(of: "\n", with: " ")))\n\n"
    }
}
