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

    /// Whether `new` gives a new value to the attribute `old` is about: the same subject, and
    /// the same attribute (numbers counting the same thing); or, for a change that does not name
    /// the attribute the same way, a single-valued one whose value is of the same kind ("moved
    /// to 14:00" after "happens at 10:30 on Mondays").
    public static func sameAttribute(_ old: FactShape, _ new: FactShape, speaker: String? = nil) -> Bool {
        guard sameSubject(old.subject, new.subject) else { return false }
        let (a, b) = (old.valueKinds.filter { $0.hasPrefix("number:") }, new.valueKinds.filter { $0.hasPrefix("number:") })
        if old.attribute == new.attribute { return a.isEmpty || b.isEmpty || !a.isDisjoint(with: b) }
        if new.isChange, let head = new.headNoun, old.valueWords.contains(head) { return true }
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
