import Foundation

/// The value side of a fact: the words that name values, what kind of value they are, and the
/// predicate split into attribute and value.
extension FactShape {
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
                // "7 day", "3 days": one unit, singular.
                let singular = unit.count > 3 && unit.hasSuffix("s") && !unit.hasSuffix("ss") ? String(unit.dropLast()) : unit
                kinds.insert(unit.isEmpty ? "number" : "number:" + singular)
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

    static let calendar: Set<String> = [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april",
        "june", "july", "august", "september", "october", "november", "december", "today", "tomorrow", "tonight",
        // "may" is left out (a verb more often than a month; "May" is capitalised anyway)
    ]

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
