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

    /// What kinds of thing the value is: `date` (a calendar word), `time` (10:30), `percent`,
    /// `version` (3.0.13), `number:UNIT` (a number and the word after it), `number`, `name`.
    public var valueKinds: Set<String> {
        let words = value.split(separator: " ").map(String.init)
        func calendarWord(_ word: String) -> Bool {
            let w = word.trimmingCharacters(in: .punctuationCharacters)
            return FactShape.calendar.contains(w) || FactShape.calendar.contains(String(w.dropLast())) || w == "may"
        }
        var kinds = Set<String>()
        for (index, word) in words.enumerated() {
            let next = index + 1 < words.count ? words[index + 1] : ""
            // "3 March", "17th April": a day of a month.
            let day = word.first?.isNumber == true && word.count <= 4 && word.allSatisfy { $0.isNumber || $0.isLetter }
            if calendarWord(word) || day && calendarWord(next) {
                kinds.insert("date")
            } else if word.contains(":"), word.contains(where: \.isNumber) {
                kinds.insert("time")
            } else if word.hasSuffix("%") {
                kinds.insert("percent")
            } else if word.filter({ $0 == "." }).count >= 1, word.first?.isNumber == true {
                kinds.insert("version")
            } else if word.contains(where: \.isNumber), word.first?.isNumber == false {
                kinds.insert("id")  // eu-west-1, ci-01, RB-117
            } else if word.contains(where: \.isNumber) || FactShape.numberWords.contains(word) {
                let unit = next.allSatisfy(\.isLetter) && !next.isEmpty && !FactShape.numberWords.contains(next)
                    ? next : FactShape.numberWords.contains(word) ? "" : String(word.drop { $0.isNumber || $0 == "," || $0 == "." })
                kinds.insert(unit.isEmpty ? "number" : "number:" + unit)
            } else if index == 0 || !(words[index - 1].contains(where: \.isNumber)) {
                kinds.insert("name")
            }
        }
        return kinds
    }

    /// Numbers in words ("one" is left out: more often a pronoun than a count).
    static let numberWords: Set<String> = [
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
        "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
        "hundred", "thousand", "million", "billion", "dozen",
    ]

    /// Update adverbs: they mark a change and say nothing about the attribute.
    static let markers: Set<String> = ["now", "currently", "still", "actually", "already", "recently", "just", "also", "officially", "again", "anymore"]
    static let states: Set<String> = ["is", "are", "was", "were", "am", "be", "has", "have", "had", "will", "'s"]
    static let auxiliaries: Set<String> = [
        "is", "are", "was", "were", "am", "be", "been", "has", "have", "had", "will", "would", "can", "could", "should", "must", "may",
        "might", "do", "does", "did", "shall",
    ]
    static let prepositions: Set<String> = ["on", "in", "at", "to", "for", "by", "from", "until", "till", "since", "into", "as", "of"]
    static let calendar: Set<String> = [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april",
        "june", "july", "august", "september", "october", "november", "december", "today", "tomorrow", "tonight",
        // "may" is left out (a verb more often than a month; "May" is capitalised anyway)
    ]

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
        return FactShape(subject: noun + " " + subject, attribute: "is #", value: value, singleValued: true, isChange: changed)
    }

    /// "Mateo Silva is our escalation contact": a subject of names only, said to be a role
    /// ("our …", "the …"), is the role's value: the subject is the role.
    static func named(subject: [Token], predicate: [Token], changed: Bool) -> FactShape? {
        guard !subject.isEmpty, subject.allSatisfy({ $0.text.first?.isUppercase == true }), predicate.count >= 3,
            ["is", "are", "was"].contains(predicate[0].lower), ["our", "the", "my", "their"].contains(predicate[1].lower)
        else { return nil }
        var role = Array(predicate[2...])
        if let cut = role.firstIndex(where: { prepositions.contains($0.lower) }) { role = Array(role[..<cut]) }
        guard (1...4).contains(role.count), !role.contains(where: \.hasDigit) else { return nil }
        let value = subject.map(\.lower).joined(separator: " ")
        return FactShape(subject: role.map(\.lower).joined(separator: " "), attribute: "is #", value: value, singleValued: true, isChange: changed)
    }

    /// Common irregular past forms (verbs for the subject's end; "went up to", "rose to").
    static let irregularPast: Set<String> = [
        "went", "rose", "fell", "grew", "cut", "set", "got", "became", "began", "took", "made", "left", "came", "gave", "put", "ran",
        "brought", "bought", "built", "chose", "drove", "found", "held", "kept", "led", "lost", "met", "paid", "sent", "sold", "spent",
        "won", "wrote", "shut", "split", "swapped",
    ]

    /// Whether two subjects name the same thing: the words of one are all among the other's
    /// ("review", "design review"; "security review for the mobile app", "mobile app security
    /// review").
    public static func sameSubject(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        func words(_ s: String) -> Set<Substring> {
            Set(s.split(separator: " ").filter { !FactReading.articles.contains(String($0)) && !prepositions.contains(String($0)) }
                .map { $0.hasSuffix("'s") ? $0.dropLast(2) : $0 })
        }
        let x = words(a), y = words(b)
        guard !x.isEmpty, !y.isEmpty else { return false }
        return x.isSubset(of: y) || y.isSubset(of: x)
    }

    /// Whether `new` gives a new value to the attribute `old` is about: the same subject, and
    /// the same attribute (numbers counting the same thing); or, for a change that does not name
    /// the attribute the same way, a single-valued one whose value is of the same kind ("moved
    /// to 14:00" after "happens at 10:30 on Mondays").
    public static func sameAttribute(_ old: FactShape, _ new: FactShape, speaker: String? = nil) -> Bool {
        guard sameSubject(old.subject, new.subject) else { return false }
        let (a, b) = (old.valueKinds.filter { $0.hasPrefix("number:") }, new.valueKinds.filter { $0.hasPrefix("number:") })
        if old.attribute == new.attribute { return a.isEmpty || b.isEmpty || !a.isDisjoint(with: b) }
        guard new.isChange, old.singleValued, !new.value.isEmpty else { return false }
        // A date for a date, 64 GB for 16 GB: enough; a name for a name, for a thing ("switched
        // the docs site to MkDocs" after "built with Docusaurus"). Not for the speaker, who is
        // many names (who they are, where they work, what they run), unless the attributes
        // share a word.
        let shared = old.valueKinds.intersection(new.valueKinds)
        if !shared.subtracting(["name", "number"]).isEmpty { return true }
        if shared.contains("name"), new.subject != speaker?.lowercased() { return true }
        func words(_ attribute: String) -> Set<Substring> {
            Set(attribute.split(separator: " ").filter { $0 != "#" && !prepositions.contains(String($0)) && !auxiliaries.contains(String($0)) })
        }
        return !shared.isEmpty && !words(old.attribute).isDisjoint(with: words(new.attribute))
    }

    /// "we tightened the latency budget to 180 ms", "Ana moved the review to Friday": the
    /// object is the subject, and the new value is what it was changed to (`is #`).
    static func change(_ tokens: [Token], speaker: String) -> FactShape? {
        guard tokens.count >= 4, let verbAt = tokens.indices.dropFirst().first(where: { isVerb(tokens, at: $0) }),
            tokens[verbAt].lower.hasSuffix("ed") || irregularPast.contains(tokens[verbAt].lower),
            let to = tokens[(verbAt + 1)...].firstIndex(where: { $0.lower == "to" }), to > verbAt + 1, to + 1 < tokens.count
        else { return nil }
        var object = Array(tokens[(verbAt + 1)..<to])
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
        guard index > 0, !tokens[index].isValue, word.count > 3 else { return false }
        if word.hasSuffix("ed") { return true }
        let previous = tokens[index - 1].lower
        // "images are …": a plural noun before its verb.
        if index + 1 < tokens.count, auxiliaries.contains(tokens[index + 1].lower) { return false }
        return word.hasSuffix("s") && !word.hasSuffix("ss") && !word.hasSuffix("us") && !word.hasSuffix("is")
            && !FactReading.articles.contains(previous) && !prepositions.contains(previous)
    }

    /// The predicate split into attribute and value, and whether the value is a number or a
    /// date. With values named: the predicate with them masked (`has # of ram`) and the named
    /// words (`64 gb ram`). Without: the verb group (`is rotated by`, `leads`) and the rest.
    static func mask(_ predicate: [Token]) -> (attribute: String, value: String, numeric: Bool) {
        var attribute: [String] = []
        var value: [String] = []
        var numeric = false
        var negated = false
        for (index, token) in predicate.enumerated() {
            // "500 rps, not 300": what it is not is neither the value nor the attribute.
            if token.lower == "not", index + 1 < predicate.count, predicate[index + 1].isValue {
                negated = true
                continue
            }
            // The word a number counts ("14 pods", "64 GB"), unless a function word.
            let unit = index > 0 && predicate[index - 1].hasDigit && token.lower.allSatisfy(\.isLetter) && !prepositions.contains(token.lower)
                && !auxiliaries.contains(token.lower) && !FactReading.articles.contains(token.lower) && !["and", "or", "but", "each", "per"].contains(token.lower)
            if negated {
                if token.isValue || unit { continue }
                negated = false
            }
            if token.isValue || unit {
                if token.hasDigit || calendar.contains(token.lower) { numeric = true }
                value.append(token.lower)
                if let last = attribute.last, prepositions.contains(last) { attribute.removeLast() }
                if attribute.last != "#" { attribute.append("#") }
            } else {
                attribute.append(token.lower)
            }
        }
        if !value.isEmpty { return (attribute.joined(separator: " "), value.joined(separator: " "), numeric) }
        // The verb group: auxiliaries, a participle, a preposition ("is rotated by").
        var end = 0
        while end < predicate.count, auxiliaries.contains(predicate[end].lower) { end += 1 }
        if end < predicate.count, end == 0 || predicate[end].lower.hasSuffix("ed") || predicate[end].lower.hasSuffix("en") { end += 1 }
        if end < predicate.count, prepositions.contains(predicate[end].lower) { end += 1 }
        let verb = predicate[..<max(1, end)].map(\.lower).joined(separator: " ")
        let rest = predicate[max(1, end)...].map(\.lower).joined(separator: " ")
        return (verb, rest, false)
    }

    /// A word of a sentence as written and lower-cased, and whether it names a value: a number,
    /// a calendar word, or a capitalised word that does not start the sentence.
    struct Token: Hashable {
        var text: String
        var lower: String
        var isValue: Bool
        /// A number, in digits or in words ("six hours", "forty runbooks").
        var hasDigit: Bool { text.contains(where: \.isNumber) || FactShape.numberWords.contains(lower) }

        static func split(_ sentence: String) -> [Token] {
            let pieces = sentence.split { !$0.isLetter && !$0.isNumber && !"'-.:%".contains($0) }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'-.:")) }.filter { !$0.isEmpty }
            return pieces.enumerated().map { index, piece in
                let lower = piece.lowercased()
                let capital = piece.first?.isUppercase == true && index > 0 && lower != "i"
                let value = piece.contains(where: \.isNumber) || FactShape.numberWords.contains(lower) || FactShape.calendar.contains(lower) || capital
                return Token(text: piece, lower: lower, isValue: value)
            }
        }
    }
}
