import Foundation
import TroupeCore
import TroupeRetrieval

/// A conversation as Markdown: a heading per speaker, what each reply recalled as footnotes
/// with their scores, and what was written. Text is made terminal-safe (a transcript is read
/// in terminals and editors alike).
public enum Transcript {
    public static func markdown(_ turns: [TurnRecord], title: String) -> String {
        var out = "# \(safe(title))\n"
        var note = 0
        for turn in turns {
            out += "\n## \(safe(turn.speaker)) → \(turn.persona)\n\n\(safe(turn.message))\n"
            var marks = ""
            var notes: [String] = []
            for hit in turn.recalled {
                note += 1
                marks += "[^\(note)]"
                notes.append("[^\(note)]: \(String(format: "%.3f", hit.score)) \(hit.record.owner)/\(hit.record.slice.rawValue) "
                    + "\(hit.record.id): \(safe(hit.record.content.replacingOccurrences(of: "\n", with: " ")))")
            }
            var reply = safe(turn.reply)
            if !turn.complete { reply += turn.failure.map { " *(broke off: \(safe($0)))*" } ?? " *(stopped)*" }
            out += "\n## \(turn.persona)\n\n\(reply)\(marks.isEmpty ? "" : " " + marks)\n"
            if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
            let kept = turn.written.filter { $0.what != .message && $0.what != .reply && $0.what != .episode }
            if !kept.isEmpty {
                out += "\n" + kept.map { "- \($0.what.rawValue): \(safe($0.content)) (`\($0.id)`)" }.joined(separator: "\n") + "\n"
            }
        }
        return out
    }

    static func safe(_ text: String) -> String { TerminalText.escaped(text) }
}
