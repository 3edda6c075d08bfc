import Foundation
import TroupeCore

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

}

/// Owner and slice as full-text tokens, so that a MATCH can select the slices a recall may read.
///
/// Names are spelled as their bytes in three decimal digits each: the tokenizer keeps such a
/// token whole (names may hold `-` and `_`, which it would split on) and the stemmer leaves it
/// alone, and no two names share a token.
enum LexicalScope {
    /// The scope column of a record: its owner's token and its owner-and-slice token.
    static func tokens(owner: PersonaID, slice: SliceKind) -> String {
        ownerToken(owner) + " " + sliceToken(owner, slice)
    }

    /// A MATCH expression for `terms` within the owners (and slices) of `filter`, or `nil` when
    /// there are no terms. Without owners in the filter, no scope is added.
    static func match(terms: [String], owners: [PersonaID]?, slices: [SliceKind]?) -> String? {
        guard !terms.isEmpty else { return nil }
        let words = "content : (" + terms.map { "\"\($0)\"" }.joined(separator: " OR ") + ")"
        guard let owners else { return words }
        let scopes = slices.map { slices in owners.flatMap { owner in slices.map { sliceToken(owner, $0) } } }
            ?? owners.map(ownerToken)
        guard !scopes.isEmpty else { return nil }
        return words + " AND scope : (" + scopes.map { "\"\($0)\"" }.joined(separator: " OR ") + ")"
    }

    private static func ownerToken(_ owner: PersonaID) -> String { "o" + digits(owner.rawValue) }
    private static func sliceToken(_ owner: PersonaID, _ slice: SliceKind) -> String {
        "s" + digits(owner.rawValue + "/" + slice.rawValue)
    }

    private static func digits(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count * 3)
        for byte in name.utf8 {
            out += String(byte / 100) + String(byte / 10 % 10) + String(byte % 10)
        }
        return out
    }
}
