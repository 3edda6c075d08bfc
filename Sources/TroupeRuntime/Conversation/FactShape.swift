import Foundation

/// What a one-sentence fact says, as rules read it: its subject (whom or what it is about), its
/// attribute (what about the subject) and the value the attribute has. Two facts about the same
/// subject and attribute with different values cannot both be current; the same value said
/// again is a repetition, whatever the wording around it.
///
/// The reading is syntactic, not a list of known facts: the subject is the noun phrase before
/// the first verb; the value is what the sentence names (numbers and what they count, dates,
/// proper names); the attribute is the rest of the predicate with the value taken out ("has #
/// of RAM", "starts #"). A few closed word classes (articles, auxiliaries, calendar words,
/// update adverbs such as "now") and the relation families of ``FactReading/relation(of:)``
/// are the only vocabulary it uses.
public struct FactShape: Sendable, Hashable {
    /// Lower-cased words; the speaker for the first person ("I", "my laptop" → "ana laptop").
    public var subject: String
    /// The predicate with its value masked (`has # of ram`), or a relation family (`location`).
    public var attribute: String
    /// The value, lower-cased (`64 gb`, `17 april`); empty when the sentence names none.
    public var value: String
    /// Whether the attribute holds one value at a time, so that a new value replaces the old:
    /// a number or date, a relation family, a state (`is`, `has`, `will`), or said as a change
    /// ("now", "moved … to").
    public var singleValued: Bool
    /// Said as a change ("… now …", "moved to 14:00", "went up to 350 EUR"): such a sentence
    /// names the new value, not always the attribute, which is then the one of the subject's
    /// single-valued attributes whose value is of the same kind (see ``valueKinds``).
    public var isChange = false

    public init(subject: String, attribute: String, value: String, singleValued: Bool, isChange: Bool = false) {
        (self.subject, self.attribute, self.value, self.singleValued, self.isChange) = (subject, attribute, value, singleValued, isChange)
    }

    /// Update adverbs: they mark a change and say nothing about the attribute.
    static let markers: Set<String> = ["now", "currently", "still", "actually", "already", "recently", "just", "also", "officially", "again", "anymore"]
    static let states: Set<String> = ["is", "are", "was", "were", "am", "be", "has", "have", "had", "will", "'s"]
    static let auxiliaries: Set<String> = [
        "is", "are", "was", "were", "am", "be", "been", "has", "have", "had", "will", "would", "can", "could", "should", "must", "may",
        "might", "do", "does", "did", "shall",
    ]
    static let prepositions: Set<String> = ["on", "in", "at", "to", "for", "by", "from", "until", "till", "since", "into", "as", "of"]
    /// The shape of `text` said by `speaker`; `nil` when no subject and verb can be told.
    public static func of(_ text: String, speaker: String) -> FactShape? {
        var tokens = Token.split(text)
        guard !tokens.isEmpty else { return nil }
        var changed = false
        // "From now on", "as of today", "going forward": said as a change, and about nothing else.
        for phrase in changePhrases {
            while let at = tokens.indices.first(where: { tokens[$0...].prefix(phrase.count).map(\.lower) == phrase }) {
                tokens.removeSubrange(at..<(at + phrase.count))
                changed = true
            }
        }
        // A leading clause that only sets the scene ("After the query-cache change, …").
        if let first = tokens.first, sceneOpeners.contains(first.lower), let comma = commaAfterScene(text, tokens: tokens) {
            tokens.removeFirst(comma)
            if let head = tokens.first { tokens[0] = Token(text: head.text, lower: head.lower, isValue: false) }
        }
        changed = changed || tokens.contains { markers.contains($0.lower) }
        tokens.removeAll { markers.contains($0.lower) }
        guard !tokens.isEmpty else { return nil }
        if let change = change(tokens, speaker: speaker) { return change }
        guard let (subject, verbAt) = subject(tokens, speaker: speaker) else { return nil }
        let predicate = Array(tokens[verbAt...])
        // "The password is": a verb and nothing it says (a reply cut short).
        guard predicate.count >= 2 else { return nil }
        if let swapped = named(subject: Array(tokens[..<verbAt]), predicate: predicate, changed: changed) { return swapped }
        if let owned = possessed(subject: subject, predicate: predicate, changed: changed) { return owned }
        if let moved = takenTo(subject: subject, predicate: predicate) { return moved }
        let (attribute, value, numeric) = mask(predicate)
        let relation = FactReading.relation(of: text)
        // "no longer", or a past verb that takes the subject to a value ("moved to 14:00", "went
        // up to 350 EUR", "is down to 310 ms").
        let firstValue = predicate.firstIndex { $0.isValue } ?? predicate.count
        let movedTo = firstValue > 1 && predicate[firstValue - 1].lower == "to"
            && predicate[..<(firstValue - 1)].contains { $0.lower.hasSuffix("ed") || irregularPast.contains($0.lower) || ["up", "down"].contains($0.lower) }
        changed = changed || text.lowercased().contains(" no longer ") || movedTo
        let single = numeric || relation != nil || changed || states.contains(predicate[0].lower)
        return FactShape(subject: subject, attribute: relation ?? attribute, value: value, singleValued: single, isChange: changed)
    }

    /// What `sentence` does something to: the noun phrase after its verb ("we replaced the event
    /// bus" → "event bus"), for a next sentence that calls it "it".
    public static func object(of sentence: String, speaker: String) -> String? {
        let tokens = Token.split(sentence)
        guard !tokens.isEmpty, let (_, verbAt) = subject(tokens, speaker: speaker) else { return nil }
        var words = tokens[(verbAt + 1)...].drop { auxiliaries.contains($0.lower) || $0.lower.hasSuffix("ed") && $0.lower != "ed" }
            .drop { FactReading.articles.contains($0.lower) }
        if let cut = words.firstIndex(where: { prepositions.contains($0.lower) }) { words = words[..<cut] }
        guard (1...4).contains(words.count) else { return nil }
        return words.map(\.lower).joined(separator: " ")
    }

    /// Phrases that mark a change and say nothing about the attribute.
    static let changePhrases: [[String]] = [["from", "now", "on"], ["from", "today"], ["as", "of", "today"], ["going", "forward"], ["starting", "today"]]

    /// Words that open a clause setting the scene before the sentence proper.
    static let sceneOpeners: Set<String> = ["after", "before", "since", "following", "from", "as", "starting", "once", "when", "until", "with", "for"]

    /// How many tokens the scene-setting clause before the first comma of `text` has, if there
    /// is one and something follows it.
    static func commaAfterScene(_ text: String, tokens: [Token]) -> Int? {
        guard let comma = text.firstIndex(of: ",") else { return nil }
        let count = Token.split(String(text[..<comma])).count
        return count > 0 && count < tokens.count - 2 ? count : nil
    }

    /// "The partner API has a rate limit of 300 rps": what the subject has is the subject ("rate
    /// limit partner api"), and its value what it is (`is #`), as in "the rate limit on the
    /// partner API is 500 rps".
    static func possessed(subject: String, predicate: [Token], changed: Bool) -> FactShape? {
        guard predicate.count >= 4, ["has", "have", "had"].contains(predicate[0].lower) else { return nil }
        var rest = predicate.dropFirst()
        if let first = rest.first, ["a", "an", "the"].contains(first.lower) { rest = rest.dropFirst() }
        guard let of = rest.firstIndex(where: { $0.lower == "of" }), of > rest.startIndex, of - rest.startIndex <= 4,
            !rest[..<of].contains(where: \.isValue), rest[(of + 1)...].first?.isValue == true
        else { return nil }
        let (_, value, _) = mask(Array(rest[(of + 1)...]))
        let noun = rest[..<of].map(\.lower).joined(separator: " ")
        return FactShape(subject: noun + " of " + subject, attribute: "is #", value: value, singleValued: true, isChange: changed)
    }

    /// "Mateo Silva is our escalation contact", "Lars Eriksen has taken over as on-call lead for
    /// the payments rota": a subject of names only, said to be a role ("is our …", "became the
    /// …", "… as …"), is the role's value: the subject is the role. Taking a role on ("as") is
    /// said as a change.
    static func named(subject: [Token], predicate: [Token], changed: Bool) -> FactShape? {
        guard !subject.isEmpty, subject.allSatisfy({ $0.text.first?.isUppercase == true }), predicate.count >= 3 else { return nil }
        let value = subject.map(\.lower).joined(separator: " ")
        if roleVerbs.contains(predicate[0].lower) {
            let object = predicate.dropFirst().drop { FactReading.articles.contains($0.lower) }
            guard (1...6).contains(object.count), !object.contains(where: \.hasDigit) else { return nil }
            let what = object.map(\.lower).joined(separator: " ")
            return FactShape(subject: what, attribute: predicate[0].lower + " #", value: value, singleValued: true, isChange: changed)
        }
        if ["is", "are", "was", "became", "becomes"].contains(predicate[0].lower), ["our", "the", "my", "their"].contains(predicate[1].lower) {
            var role = Array(predicate[2...])
            if let cut = role.firstIndex(where: { prepositions.contains($0.lower) }) { role = Array(role[..<cut]) }
            guard (1...4).contains(role.count), !role.contains(where: \.hasDigit) else { return nil }
            return FactShape(subject: role.map(\.lower).joined(separator: " "), attribute: "is #", value: value, singleValued: true, isChange: changed)
        }
        // "… has taken over as …", "… stepped in as …", "… serves as …": a verb group, then the role.
        // Names before "as" only for whom the subject replaced ("… replaced Dana as …").
        guard let asAt = predicate.firstIndex(where: { $0.lower == "as" }), (1...4).contains(asAt),
            !predicate[..<asAt].contains(where: \.isValue) || ["replaced", "replaces", "succeeded", "succeeds", "relieved"].contains(predicate[0].lower)
        else { return nil }
        let role = predicate[(asAt + 1)...].drop { FactReading.articles.contains($0.lower) || $0.lower == "my" }
        guard (1...8).contains(role.count), !role.contains(where: \.hasDigit), !role.contains(where: { $0.lower == "as" }) else { return nil }
        return FactShape(subject: role.map(\.lower).joined(separator: " "), attribute: "is #", value: value, singleValued: true, isChange: true)
    }

    /// "I've been promoted to principal engineer", "we switched to trunk-based development": a
    /// past form that takes the subject to something named in plain words (no number, date or
    /// name, which ``mask(_:)`` reads). The new value is that phrase, said as a change; which
    /// attribute it changes is told by its head noun (see ``sameAttribute(_:_:speaker:)``).
    static func takenTo(subject: String, predicate: [Token]) -> FactShape? {
        var at = predicate.startIndex
        while at < predicate.count, auxiliaries.contains(predicate[at].lower) || predicate[at].lower.contains("'") { at += 1 }
        guard at < predicate.count, predicate[at].lower.hasSuffix("ed") || irregularPast.contains(predicate[at].lower) else { return nil }
        at += 1
        while at < predicate.count, ["back", "up", "down", "over"].contains(predicate[at].lower) { at += 1 }
        guard at < predicate.count, predicate[at].lower == "to" else { return nil }
        let phrase = predicate[(at + 1)...].drop { FactReading.articles.contains($0.lower) || $0.lower == "my" }
        guard (1...5).contains(phrase.count), !phrase.contains(where: \.isValue),
            !phrase.contains(where: { prepositions.contains($0.lower) || auxiliaries.contains($0.lower) })
        else { return nil }
        return FactShape(subject: subject, attribute: "is #", value: phrase.map(\.lower).joined(separator: " "), singleValued: true, isChange: true)
    }

    /// Plain forms of common verbs, read as the verb only after a plural noun ("backups run",
    /// not "the nightly run").
    static let baseVerbs: Set<String> = [
        "run", "take", "start", "end", "go", "happen", "cost", "need", "want", "hold", "last", "use", "live", "work", "sit", "stay",
        "report", "belong", "expire", "ship", "deploy", "meet", "get", "come", "leave", "stop", "serve", "store", "keep",
    ]

    /// Verbs of a role only one holds at a time ("Kofi Mensah leads the data platform team"):
    /// what is led is the subject, and who leads it the value.
    static let roleVerbs: Set<String> = ["leads", "manages", "owns", "heads", "chairs", "runs", "coordinates"]

    /// Common irregular past forms (verbs for the subject's end; "went up to", "rose to").
    static let irregularPast: Set<String> = [
        "went", "rose", "fell", "grew", "cut", "set", "got", "became", "began", "took", "made", "left", "came", "gave", "put", "ran",
        "brought", "bought", "built", "chose", "drove", "found", "held", "kept", "led", "lost", "met", "paid", "sent", "sold", "spent",
        "won", "wrote", "shut", "split", "swapped",
    ]

    /// "we tightened the latency budget to 180 ms", "Ana moved the review to Friday": the
    /// object is the subject, and the new value is what it was changed to (`is #`).
    static func change(_ tokens: [Token], speaker: String) -> FactShape? {
        guard tokens.count >= 4, let verbAt = tokens.indices.dropFirst().first(where: { isVerb(tokens, at: $0) }),
            tokens[verbAt].lower.hasSuffix("ed") || irregularPast.contains(tokens[verbAt].lower),
            let to = tokens[(verbAt + 1)...].firstIndex(where: { $0.lower == "to" }), to > verbAt + 1, to + 1 < tokens.count
        else { return nil }
        var object = Array(tokens[(verbAt + 1)..<to])
        // "The pen test got pushed to 2 April": a passive; its subject is before the verb.
        if let first = object.first, first.lower.hasSuffix("ed") || irregularPast.contains(first.lower) { return nil }
        while let first = object.first, FactReading.articles.contains(first.lower) || first.lower == "my" { object.removeFirst() }
        // "pushed the fieldwork back to …": the particle is the verb's.
        while let last = object.last, ["back", "up", "down", "forward", "out", "off", "over"].contains(last.lower) { object.removeLast() }
        let after = Array(tokens[(to + 1)...])
        guard (1...5).contains(object.count), after.contains(where: { $0.isValue }) else { return nil }
        let (_, value, _) = mask(after)
        let subject = object.map(\.lower).joined(separator: " ")
        return FactShape(subject: subject, attribute: "is #", value: value, singleValued: true, isChange: true)
    }

    /// The subject's words and where the verb starts.
    static func subject(_ tokens: [Token], speaker: String) -> (String, Int)? {
        var at = 0
        var owner: String?
        if ["i", "we", "i'm", "we're", "i've"].contains(tokens[0].lower) {
            guard tokens.count > 1 else { return nil }
            return (speaker.lowercased(), tokens[0].lower.contains("'") ? 0 : 1)
        }
        if tokens[0].lower == "my" {
            owner = speaker.lowercased()
            at = 1
        }
        while at < tokens.count, FactReading.articles.contains(tokens[at].lower) { at += 1 }
        // Whom "it" or "she" means cannot be told from one sentence.
        guard at < tokens.count, !FactReading.pronouns.contains(tokens[at].lower) else { return nil }
        let start = at
        while at < tokens.count, !isVerb(tokens, at: at) || at == start { at += 1 }
        guard at < tokens.count, at > start, at - start <= 10 else { return nil }
        var words = tokens[start..<at].map(\.lower)
        if let owner { words.insert(owner, at: 0) }
        return (words.joined(separator: " "), at)
    }

    /// Whether the word at `index` is the verb: an auxiliary or a known verb, or after the first
    /// word of a phrase, a past form or a third-person `-s` form.
    static func isVerb(_ tokens: [Token], at index: Int) -> Bool {
        let word = tokens[index].lower
        if auxiliaries.contains(word) || FactReading.verbs.contains(word) || irregularPast.contains(word) && index > 0 { return true }
        // "Backups run nightly": a verb's plain form after a plural noun.
        if index > 0, baseVerbs.contains(word), tokens[index - 1].lower.hasSuffix("s"), !tokens[index - 1].lower.hasSuffix("ss"),
            !auxiliaries.contains(tokens[index - 1].lower)
        {
            return true
        }
        guard index > 0, !tokens[index].isValue, word.count > 3 else { return false }
        if word.hasSuffix("ed") { return true }
        let previous = tokens[index - 1].lower
        // "the payments rota's on-call lead": a possessive before the noun it owns, not "is".
        if word.hasSuffix("'s"), index + 1 < tokens.count, !tokens[index + 1].isValue || tokens[index + 1].lower.contains(where: \.isLetter),
            ![FactReading.articles, prepositions, auxiliaries].contains(where: { $0.contains(tokens[index + 1].lower) })
        {
            return false
        }
        // "images are …", "the edge proxies run …": a plural noun before its verb.
        if index + 1 < tokens.count, auxiliaries.contains(tokens[index + 1].lower) || baseVerbs.contains(tokens[index + 1].lower) { return false }
        return word.hasSuffix("s") && !word.hasSuffix("ss") && !word.hasSuffix("us") && !word.hasSuffix("is")
            && !FactReading.articles.contains(previous) && !prepositions.contains(previous)
    }
}
