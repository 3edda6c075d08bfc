import Foundation

/// What a session reads in a reply: whether it says the run is done, whether it holds the
/// session's stop phrase, and its decisions.
///
/// A marker counts only where it stands as a marker: `DONE` as a line of its own (markdown
/// emphasis and closing punctuation aside), a stop phrase as whole words, a decision as the
/// rest of a line after `Decision:` wherever on the line that stands. "We are not DONE with the
/// migration" ends nothing.
enum SessionReplyReading {
    /// Whether a line of `reply` is the marker `DONE` alone.
    static func saysDone(_ reply: String) -> Bool {
        lines(of: reply).contains { bare($0) == "DONE" }
    }

    /// Whether `reply` holds `phrase` as whole words (case and spacing aside).
    static func holds(_ phrase: String, in reply: String) -> Bool {
        let wanted = words(phrase)
        guard !wanted.isEmpty else { return false }
        let said = words(reply)
        guard said.count >= wanted.count else { return false }
        return (0...(said.count - wanted.count)).contains { Array(said[$0..<($0 + wanted.count)]) == wanted }
    }

    /// The decisions in `reply`: on each line, what follows a `Decision:` (any case, emphasis
    /// aside) that opens the line or a sentence on it, trimmed. A marker inside a sentence or
    /// in quotes (`I said "Decision:" and then…`) is talk about deciding, not a decision.
    static func decisions(in reply: String) -> [String] {
        lines(of: reply).compactMap { line in
            let plain = line.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            let opening = #"(?:^[\s>#*_\-•\d.)]*|[.!?]\s+)decision\s*:(?!["'”’])"#
            guard let marker = plain.range(of: opening, options: [.regularExpression, .caseInsensitive]) else { return nil }
            let decision = plain[marker.upperBound...].trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "*_\"'")))
            return decision.isEmpty ? nil : decision
        }
    }

    private static func lines(of text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init)
    }

    /// A line without markdown emphasis, list or heading marks, quotes and closing punctuation.
    private static func bare(_ line: String) -> String {
        line.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "*_#>-`\"'.!:;")))
    }

    private static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }
}
