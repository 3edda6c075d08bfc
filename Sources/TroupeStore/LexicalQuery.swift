import Foundation

/// Turns a user's query into safe full-text terms: words only, so no query text can be read as
/// FTS5 syntax (quotes, `NEAR`, column filters).
public enum LexicalQuery {
    /// The lower-cased words of `text` (letters and digits), at most `limit` distinct ones.
    public static func terms(_ text: String, limit: Int = 32) -> [String] {
        var seen = Set<String>()
        var terms: [String] = []
        var word = ""
        func flush() {
            if !word.isEmpty, seen.insert(word).inserted, terms.count < limit { terms.append(word) }
            word = ""
        }
        for character in text.lowercased() {
            if character.isLetter || character.isNumber { word.append(character) } else { flush() }
        }
        flush()
        return terms
    }

    /// An FTS5 MATCH expression that matches any of the terms, or `nil` when there are none.
    public static func match(_ text: String) -> String? {
        let terms = terms(text)
        return terms.isEmpty ? nil : terms.map { "\"\($0)\"" }.joined(separator: " OR ")
    }
}
