import Foundation
import TroupeCore
import TroupeLLM

/// Reading facts out of a message: whom a sentence is about, what about them, which sentences
/// state something worth keeping, and asking a model for the same as JSON.
enum FactReading {
    static let articles: Set<String> = ["the", "a", "an", "this", "that", "these", "those", "our", "your", "their", "his", "her"]
    static let firstPerson: Set<String> = ["i", "my", "me", "we", "our", "i'm", "i've", "we're"]
    static let pronouns: Set<String> = ["he", "she", "it", "they", "them", "him", "its", "it's", "there", "here"]
    static let openers: Set<String> = [
        "what", "who", "whom", "when", "where", "why", "how", "which", "can", "could", "would", "should", "will", "do", "does", "did",
        "is", "are", "was", "were", "please", "let", "let's", "tell", "show", "give", "help", "remember", "hi", "hello", "hey", "thanks",
        "thank", "ok", "okay", "yes", "no", "sure", "maybe", "if", "so", "and", "but", "or",
    ]
    static let verbs: Set<String> = [
        "is", "are", "was", "were", "has", "have", "had", "lives", "live", "moved", "moves", "works", "work", "worked", "likes", "like",
        "loves", "love", "prefers", "prefer", "uses", "use", "joined", "left", "owns", "own", "started", "plans", "decided", "will",
        "needs", "wants", "studies", "teaches", "runs", "leads", "manages", "speaks", "turned", "relocated", "resides",
    ]

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" && $0 != "-" }.map(String.init)
    }

    /// Whom `sentence` is about: the speaker for the first person, a named subject otherwise;
    /// `nil` for a pronoun (who "she" is cannot be told from one sentence).
    static func subject(of sentence: String, speaker: String) -> String? {
        var list = words(sentence)[...]
        while let first = list.first, articles.contains(first) { list = list.dropFirst() }
        guard let first = list.first else { return nil }
        if firstPerson.contains(first) { return speaker.lowercased() }
        if pronouns.contains(first) || verbs.contains(first) { return nil }
        return first
    }

    /// The relation families ``relation(of:)`` reads.
    static let relations: Set<String> = ["schedule", "location", "employer", "age"]

    /// What about its subject `sentence` says, when only one such thing can be true at a time.
    static func relation(of sentence: String) -> String? {
        let w = words(sentence).joined(separator: " ")
        let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "tomorrow", "next week", "january",
                    "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
        let schedule = ["is on", "is scheduled for", "scheduled for", "is due", "moved to", "was moved to", "is set for", "happens on"]
        if schedule.contains(where: w.contains), days.contains(where: w.contains) { return "schedule" }
        let location = ["lives in", "live in", "moved to", "moving to", "relocated to", "is based in", "based in", "resides in", "lives at", "now lives"]
        if location.contains(where: w.contains) { return "location" }
        let employer = ["works at", "works for", "work at", "work for", "is employed by", "joined", "now works"]
        if employer.contains(where: w.contains) { return "employer" }
        // "I'm a data analyst at Fabrikam": a role at a place of work.
        if w.range(of: #"\b(i'm|am|is|are|we're|was) (a|an) [a-z-]+( [a-z-]+){0,3} at "#, options: .regularExpression) != nil { return "employer" }
        if w.range(of: #"\b(is|am|turned) \d+( years old)?\b"#, options: .regularExpression) != nil, w.contains("old") || w.contains("turned") {
            return "age"
        }
        return nil
    }

    /// The sentences of `message` that state something about a named subject or the speaker
    /// (a subject and a verb can be told, see ``FactShape``): not questions, greetings, requests
    /// or what is said to the listener. "remember that …" is read as what follows it.
    static func sentences(_ message: String, speaker: String) -> [Fact] {
        var facts: [Fact] = []
        var previousObject: String?
        for (raw, question) in clauses(split(message)) {
            var sentence = withoutLeadIn(raw.trimmingCharacters(in: .whitespaces))
            if let asked = MemoryFormation.explicit(sentence) { sentence = asked }
            // "We replaced the event bus; it is now NATS JetStream": "it" is what the sentence
            // before did something to.
            if let first = sentence.split(separator: " ").first, ["it", "it's"].contains(first.lowercased()), let object = previousObject {
                // "my laptop" keeps its owner; anything else is "the …".
                let owned = ["my", "our", "his", "her", "their"].contains(object.split(separator: " ").first.map(String.init) ?? "")
                let named = owned ? object.prefix(1).uppercased() + object.dropFirst() : "The \(object)"
                sentence = named + " " + (first.lowercased() == "it's" ? "is " : "") + sentence.dropFirst(first.count).trimmingCharacters(in: .whitespaces)
            }
            previousObject = FactShape.object(of: sentence, speaker: speaker)
            if question { continue }
            let list = words(sentence)
            // Said to someone ("bella, keep us to time"), or about the listener: not a fact.
            let vocative = sentence.split(separator: " ").first?.hasSuffix(",") ?? false
            guard (3...40).contains(list.count), let first = list.first, !vocative, !list.contains("you"), !list.contains("your"),
                !openers.contains(first), FactShape.of(sentence, speaker: speaker) != nil
            else { continue }
            facts.append(Fact(text: sentence, speaker: speaker))
        }
        return facts
    }

    /// Discourse markers that open a sentence and say nothing of its content.
    static let discourseMarkers: [String] = [
        "note that", "fyi", "btw", "by the way", "for the record", "just so you know", "heads up", "also", "and", "so", "ok so", "okay so",
        "well", "it turns out that", "it turns out", "turns out that", "turns out", "apparently", "actually", "anyway", "lol", "haha", "oh",
        "ah", "oh and", "plus", "ok", "okay", "right",
    ]

    /// Words before a statement that only introduce it ("Note that …", "For the record, …", "Hi
    /// Seshat, …", "side note - …"), taken off: a discourse marker, or a short verbless lead-in
    /// before a comma or a dash.
    static func withoutLeadIn(_ sentence: String) -> String {
        var text = sentence.trimmingCharacters(in: .whitespaces)
        var changed = true
        while changed {
            changed = false
            // A bracketed aside before the statement ("[semantic, user] The …"), or the end of
            // one begun before it.
            if let end = text.firstIndex(where: { "])".contains($0) }), text.distance(from: text.startIndex, to: end) <= 40 {
                let open: Character = text[end] == "]" ? "[" : "("
                let start = text[..<end].firstIndex(of: open)
                if start == nil || start == text.startIndex {
                    text = String(text[text.index(after: end)...]).trimmingCharacters(in: .whitespaces)
                    changed = true
                    continue
                }
            }
            let lower = text.lowercased()
            for marker in discourseMarkers.sorted(by: { $0.count > $1.count }) {
                guard lower.hasPrefix(marker) else { continue }
                let rest = lower.dropFirst(marker.count)
                guard let next = rest.first, next == " " || next == "," || next == "!" || next == "." else { continue }
                text = String(text.dropFirst(marker.count)).trimmingCharacters(in: CharacterSet(charactersIn: " ,!.-"))
                changed = true
                break
            }
            // "side note, …", "small change - …", "hi Seshat, …": a few words without a verb.
            if let cut = text.range(of: #"^[^,;]{1,40}?(, | - | -- )"#, options: .regularExpression) {
                let head = String(text[cut]).trimmingCharacters(in: CharacterSet(charactersIn: " ,-"))
                if head.split(separator: " ").count <= 5, FactShape.of(head, speaker: "x") == nil, text[cut.upperBound...].count > 8 {
                    text = String(text[cut.upperBound...])
                    changed = true
                }
            }
        }
        return text
    }

    /// The sentences, with clauses that state something on their own taken apart: "I'm Rowan
    /// Pike and I work for Northwind" is two statements; a question that opens with a reason
    /// ("Since most of our customers are in Brazil, where …?") states the reason.
    static func clauses(_ sentences: [(text: String, question: Bool)]) -> [(text: String, question: Bool)] {
        var result: [(String, Bool)] = []
        for (text, question) in sentences {
            if question {
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if let opener = ["since ", "given that ", "as ", "because "].first(where: trimmed.lowercased().hasPrefix),
                    let comma = trimmed.firstIndex(of: ",")
                {
                    result.append((String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: opener.count)..<comma]), false))
                }
                result.append((text, true))
                continue
            }
            // What follows a relative or reason clause is its own business: "… 300 rps which we're
            // hitting at peak", "… moved to 10:15 because half the team …".
            var rest = text[...]
            if let cut = rest.range(of: #"(,)? (which|because|since|so that's|so that|though|although|i think|i guess) "#, options: [.regularExpression, .caseInsensitive]) {
                rest = rest[..<cut.lowerBound]
            }
            // Clauses joined with "and", "but", a dash or a comma, each with a subject of its own
            // (a joint after words that state nothing yet is not one).
            let joint = #"(,? (and|but) |, | - | -- )(i|i'm|i've|we|we're|she|he|they|it|my|our|the|his|her|their) "#
            var from = rest.startIndex
            while let range = rest.range(of: joint, options: [.regularExpression, .caseInsensitive], range: from..<rest.endIndex) {
                let head = withoutLeadIn(String(rest[..<range.lowerBound]))
                let opener = rest[range].split(separator: " ").last ?? ""
                guard FactShape.of(head, speaker: "x") != nil else {
                    from = range.upperBound
                    continue
                }
                result.append((head, false))
                rest = opener + " " + rest[range.upperBound...]
                from = rest.startIndex
            }
            result.append(contentsOf: changeClauses(String(rest)).map { ($0, false) })
        }
        return result
    }

    /// "I sold the Golf and now drive a Tesla": a change said after "and now" (or "and then")
    /// with the subject left out is a statement of its own, about the first clause's subject.
    static func changeClauses(_ sentence: String) -> [String] {
        guard let joint = sentence.range(of: #",? and (now|then) "#, options: [.regularExpression, .caseInsensitive]) else { return [sentence] }
        let head = String(sentence[..<joint.lowerBound])
        let tail = String(sentence[joint.upperBound...])
        let tokens = FactShape.Token.split(head)
        guard let first = tokens.first, let after = tail.split(separator: " ").first, !FactShape.prepositions.contains(after.lowercased()),
            !articles.contains(after.lowercased())
        else { return [sentence] }
        // The subject as written: "I", "we", or the words before the head's verb.
        let subject: String
        if firstPerson.contains(first.lower) {
            subject = first.lower == "i" || first.lower.hasPrefix("i'") ? "I" : "we"
        } else if let (_, verbAt) = FactShape.subject(tokens, speaker: "x"), verbAt > 0 {
            subject = tokens[..<verbAt].map(\.text).joined(separator: " ")
        } else {
            return [sentence]
        }
        let marker = sentence[joint].lowercased().contains("now") ? "now " : ""
        let clause = subject + " " + marker + tail
        guard FactShape.of(head, speaker: "x") != nil, FactShape.of(clause, speaker: "x") != nil else { return [sentence] }
        return [head, clause]
    }

    /// The sentences of `text`, each with whether it asks (ends with "?"). A sentence ends at
    /// `.`, `!`, `?`, `;` or `:` followed by a space or the end, or at a line break ("15.2" and
    /// "10:30" stay whole; "Change of plan: the freeze …" is two).
    static func split(_ text: String) -> [(text: String, question: Bool)] {
        var sentences: [(String, Bool)] = []
        var current = ""
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            // A colon ends a lead-in ("Change of plan: …", "Quick news: …"), not a list ("split
            // into three services: ingest, resize and publish").
            let leadIn = character == ":" && current.split(separator: " ").count <= 4
            if character == "\n" || ((".!?;".contains(character) || leadIn) && next.isWhitespace) {
                if !current.trimmingCharacters(in: .whitespaces).isEmpty { sentences.append((current, character == "?")) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { sentences.append((current, false)) }
        return sentences
    }
}
