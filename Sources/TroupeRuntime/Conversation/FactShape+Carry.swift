import Foundation

/// How a new sentence relates to a kept fact beyond subject and attribute: whether it only says
/// the fact's value again in other words, and what of the fact's sentence still stands once a
/// new value replaces its own.
extension FactShape {
    /// Whether `sentence` (with `shape`) says again the value of the kept fact `old` (its text
    /// `oldText`) about the same thing, in other words: "Again, we want GC pauses under 50 ms"
    /// after "The GC pause target is 50 ms". Every word of the old value is in the sentence,
    /// every word of its value is in the old text (it names nothing new), and most of the old
    /// subject's words are in it, while its own subject is the old one or the speaker ("we
    /// want …"): a sentence about another named thing is another fact, whatever it shares
    /// ("the ledger service listens on port 8042" after "the search service listens on port
    /// 8042"). Only for values that rules read as numbers, dates or names (a masked attribute),
    /// never for a value in plain words.
    static func restates(_ sentence: String, shape: FactShape, speaker: String, old: FactShape, oldText: String) -> Bool {
        guard old.attribute.contains("#"), !old.value.isEmpty, !shape.value.isEmpty,
            shape.subject == speaker.lowercased() || sameSubject(shape.subject, old.subject)
        else { return false }
        let said = Set(words(sentence)), kept = Set(words(oldText))
        guard words(old.value).allSatisfy(said.contains), words(shape.value).allSatisfy(kept.contains) else { return false }
        let subject = words(old.subject).filter { !FactReading.articles.contains($0) && !prepositions.contains($0) }
        let found = subject.filter { word in said.contains { sameWord($0, word) } }
        return !subject.isEmpty && found.count * 2 >= subject.count
    }

    /// The phrases of the kept fact's sentence `old` (said by `speaker`) that still stand when
    /// `new` (with `shape`) gives its attribute a new value: the prepositional phrases after the
    /// verb ("on the m6i.large fleet" in "The search p99 is 420 ms on the m6i.large fleet") that
    /// neither hold a value of the new value's kind (that is what is replaced) nor share a word
    /// with the new sentence (said again, or said otherwise). Joined in their order; `nil` when
    /// none. Losing them with the old value would be collateral damage: the person changed one
    /// thing, not everything the sentence said.
    static func carried(from old: String, speaker: String, into new: String, shape: FactShape) -> String? {
        let tokens = Token.split(old)
        guard !tokens.isEmpty, let (_, verbAt) = subject(tokens, speaker: speaker) else { return nil }
        let predicate = Array(tokens[verbAt...])
        let said = Set(words(new))
        let newKinds = shape.valueKinds
        var phrases: [String] = []
        var start: Int?
        func close(_ end: Int) {
            guard let from = start else { return }
            start = nil
            let phrase = Array(predicate[from..<end])
            let content = phrase.dropFirst().filter { !FactReading.articles.contains($0.lower) }
            guard !content.isEmpty, !content.contains(where: { word in said.contains { sameWord($0, word.lower) } }) else { return }
            let (attribute, value, _) = mask(Array(phrase.dropFirst()))
            let kinds = attribute.contains("#") ? FactShape(subject: "", attribute: "", value: value, singleValued: false).valueKinds : []
            guard kinds.isDisjoint(with: newKinds), shape.headNoun.map({ head in !content.contains { $0.lower == head } }) ?? true else { return }
            phrases.append(phrase.map(\.text).joined(separator: " "))
        }
        for (index, token) in predicate.enumerated() {
            if qualifying.contains(token.lower) {
                close(index)
                start = index
            } else if ["and", "but", "or"].contains(token.lower) || auxiliaries.contains(token.lower) && !token.isValue && index > 0 {
                // A verb ends the phrase ("… on the wiki is …"); "May" the month does not.
                close(index)
            }
        }
        close(predicate.count)
        return phrases.isEmpty ? nil : phrases.joined(separator: " ")
    }

    /// Prepositions that open a phrase qualifying a statement (where, for whom, on what, where
    /// to); not "as" (a role) or "of" (part of a noun). A phrase holding the replaced value
    /// ("to Friday" after "moved") is told by its kind, not by its preposition.
    static let qualifying: Set<String> = ["on", "in", "at", "for", "with", "under", "within", "across", "via", "inside", "outside", "to", "from"]

    /// Lower-cased words as formation compares them ("15.2" is one word, "p99's" is "p99").
    static func words(_ text: String) -> [String] {
        Token.split(text).map { $0.lower.hasSuffix("'s") ? String($0.lower.dropLast(2)) : $0.lower }
    }

    /// The same word, singular or plural ("pause", "pauses").
    static func sameWord(_ a: String, _ b: String) -> Bool {
        a == b || a + "s" == b || b + "s" == a || a + "es" == b || b + "es" == a
    }
}
