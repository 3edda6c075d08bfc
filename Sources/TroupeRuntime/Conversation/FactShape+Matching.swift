import Foundation

/// Whether two facts are about the same thing: the same subject, the same attribute.
extension FactShape {
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

    /// The noun a subject names: its last word before any preposition ("review" in "security
    /// review for the mobile app"). Subjects of one thing may differ in it ("production SSH
    /// access", "production SSH"; "Tomasz Nowak", "Tomasz"), so formation does not ask for it;
    /// a reply checked against memory does ("launch rehearsal" is not "launch").
    static func head(_ subject: String) -> Substring? {
        let noun = subject.split(separator: " ").prefix { !prepositions.contains(String($0)) }.last
        return noun.map { $0.hasSuffix("'s") ? $0.dropLast(2) : $0 }
    }

    /// Whether `new` gives a new value to the attribute `old` is about: the same subject, and
    /// the same attribute (numbers counting the same thing); or, for a change that does not name
    /// the attribute the same way, a single-valued one whose value is of the same kind ("moved
    /// to 14:00" after "happens at 10:30 on Mondays").
    public static func sameAttribute(_ old: FactShape, _ new: FactShape, speaker: String? = nil) -> Bool {
        guard sameSubject(old.subject, new.subject) else { return changesWhatItNamed(old, new) }
        let (a, b) = (old.valueKinds.filter { $0.hasPrefix("number:") }, new.valueKinds.filter { $0.hasPrefix("number:") })
        // A relation family (age, location, …) is one attribute whatever the numbers count
        // ("is 7 years old", "turned 8 last week").
        if old.attribute == new.attribute { return FactReading.relations.contains(old.attribute) || a.isEmpty || b.isEmpty || !a.isDisjoint(with: b) }
        if new.isChange, let head = new.headNoun, old.valueWords.contains(head) { return true }
        guard new.isChange, old.singleValued, !new.value.isEmpty else { return false }
        // A date for a date, 64 GB for 16 GB: enough; a name for a name, for a thing ("switched
        // the docs site to MkDocs" after "built with Docusaurus"). Not for the speaker, who is
        // many names (who they are, where they work, what they run), unless the attributes
        // share a word.
        let shared = old.valueKinds.intersection(new.valueKinds)
        if !shared.subtracting(["name", "number"]).isEmpty { return true }
        if shared.contains("name"), new.subject != speaker?.lowercased() { return true }
        // A change that names what it changes ("we bumped the minimum iOS version to iOS 16")
        // is about that thing as a whole: its subject is the attribute, and a value of the
        // same kind is the new one, however the old sentence worded the rest.
        if new.attribute == "is #", !shared.isEmpty, new.subject != speaker?.lowercased() { return true }

        func words(_ attribute: String) -> Set<Substring> {
            Set(attribute.split(separator: " ").filter { $0 != "#" && !prepositions.contains(String($0)) && !auxiliaries.contains(String($0)) })
        }
        return !shared.isEmpty && !words(old.attribute).isDisjoint(with: words(new.attribute))
    }

    /// A change that names what it changes, named after the old sentence's verb rather than
    /// as its subject ("we cache dependencies with a 7 day expiry", then "we shortened the cache
    /// expiry to 3 days"): every word of the new subject is in the old sentence's subject or
    /// attribute, and the values are numbers or dates of one kind.
    static func changesWhatItNamed(_ old: FactShape, _ new: FactShape) -> Bool {
        guard new.isChange, new.attribute == "is #", !old.valueKinds.intersection(new.valueKinds).subtracting(["name", "number"]).isEmpty
        else { return false }
        let named = (old.subject + " " + old.attribute).split(separator: " ").map(String.init)
        return new.subject.split(separator: " ").allSatisfy { word in named.contains { sameWord($0, String(word)) } }
    }

    /// The last word of a value said in plain words ("principal engineer" → "engineer"), the
    /// noun that says what kind of thing it is; `nil` for a value with numbers or dates (their
    /// kinds say that, see ``valueKinds``) or a word too short to tell.
    var headNoun: String? {
        guard let last = valueWords.last, valueKinds.isSubset(of: ["name"]), last.count >= 3,
            last.allSatisfy({ $0.isLetter || $0 == "-" }), !FactShape.prepositions.contains(last), !FactShape.auxiliaries.contains(last),
            !FactReading.articles.contains(last)
        else { return nil }
        return last
    }

    /// The value's words, lower-cased.
    var valueWords: [String] { value.split(separator: " ").map(String.init) }
}
