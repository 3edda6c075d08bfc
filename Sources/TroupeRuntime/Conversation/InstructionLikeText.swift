import Foundation
import TroupeCore

/// Memories that read like instructions to a model ("ignore all previous instructions", chat
/// template tokens, a forged end of the recalled block): flagged with a tag when written, so
/// that people see them and prompts can say so. Flagging changes nothing else: such text only
/// ever reaches a model quoted, as data (see ``PromptAssembly``).
public enum InstructionLikeText {
    /// The tag a flagged memory carries.
    public static let tag = "looks-like-instruction"

    /// Why `text` reads like an instruction to a model, or `nil` when it does not. It is read
    /// as ``normalized(_:)`` gives it, so that zero-width characters, look-alike letters,
    /// fullwidth forms, combining marks, spacing and casing hide nothing.
    public static func reason(_ text: String) -> String? {
        let folded = Self.folded(text)
        let plain = folded.lowercased()
        let compact = plain.filter { !$0.isWhitespace }
        if let token = Self.controlText(in: compact) { return "it holds the control text '\(token)'" }
        let words = Self.words(of: folded)
        for phrase in Self.phrases {
            if let found = Self.match(words, inOrderWithin: 4, phrase) ?? Self.matchSpelledOut(words, phrase) {
                return "it reads like an instruction ('\(found.joined(separator: " "))')"
            }
        }
        for line in plain.split(whereSeparator: \.isNewline) {
            if let role = Self.role(posedBy: line) { return "a line of it poses as a chat role ('\(role)')" }
        }
        return nil
    }

    /// `text` as the check reads it: compatibility forms made plain (NFKC: fullwidth letters,
    /// mathematical and circled letters, ligatures, odd spaces), invisible characters (format
    /// characters such as zero-width spaces and joiners, the soft hyphen, the byte-order mark,
    /// and other default-ignorable ones) and combining marks dropped, Cyrillic, Greek and
    /// small-capital look-alikes of Latin letters folded to them, lower-cased.
    public static func normalized(_ text: String) -> String { folded(text).lowercased() }

    /// ``normalized(_:)`` before lower-casing (a word's capitals mark where camel case splits it).
    static func folded(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCompatibilityMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .format, .nonspacingMark, .spacingMark, .enclosingMark: continue
            default: if scalar.properties.isDefaultIgnorableCodePoint { continue }
            }
            out.append(lookAlikes[scalar] ?? scalar)
        }
        return String(out).precomposedStringWithCompatibilityMapping
    }

    /// Letters and signs that look like Latin letters and ASCII signs, and those they look like.
    static let lookAlikes: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs: [(Unicode.Scalar, Unicode.Scalar)] = [
            // Cyrillic
            ("а", "a"), ("в", "b"), ("с", "c"), ("ԁ", "d"), ("е", "e"), ("һ", "h"), ("н", "h"), ("і", "i"), ("ј", "j"), ("к", "k"),
            ("ӏ", "l"), ("м", "m"), ("о", "o"), ("р", "p"), ("ԛ", "q"), ("ѕ", "s"), ("т", "t"), ("ѵ", "v"), ("ԝ", "w"), ("х", "x"),
            ("у", "y"), ("ү", "y"), ("А", "A"), ("В", "B"), ("С", "C"), ("Ԁ", "D"), ("Е", "E"), ("Н", "H"), ("І", "I"), ("Ӏ", "I"),
            ("Ј", "J"), ("К", "K"), ("М", "M"), ("О", "O"), ("Р", "P"), ("Ѕ", "S"), ("Т", "T"), ("Ԝ", "W"), ("Х", "X"), ("У", "Y"),
            ("Ү", "Y"),
            // Greek
            ("α", "a"), ("ε", "e"), ("ι", "i"), ("κ", "k"), ("η", "n"), ("ο", "o"), ("ρ", "p"), ("τ", "t"), ("υ", "u"), ("ν", "v"),
            ("ω", "w"), ("χ", "x"), ("γ", "y"), ("Α", "A"), ("Β", "B"), ("Ε", "E"), ("Η", "H"), ("Ι", "I"), ("Κ", "K"), ("Μ", "M"),
            ("Ν", "N"), ("Ο", "O"), ("Ρ", "P"), ("Τ", "T"), ("Χ", "X"), ("Υ", "Y"), ("Ζ", "Z"),
            // Armenian
            ("ց", "g"), ("հ", "h"), ("ո", "n"), ("օ", "o"), ("ս", "u"),
            // Latin letters and small capitals
            ("ɑ", "a"), ("ɡ", "g"), ("ı", "i"), ("ᴀ", "a"), ("ʙ", "b"), ("ᴄ", "c"), ("ᴅ", "d"), ("ᴇ", "e"), ("ɢ", "g"), ("ʜ", "h"),
            ("ɪ", "i"), ("ᴊ", "j"), ("ᴋ", "k"), ("ʟ", "l"), ("ᴍ", "m"), ("ɴ", "n"), ("ᴏ", "o"), ("ᴘ", "p"), ("ʀ", "r"), ("ꜱ", "s"),
            ("ᴛ", "t"), ("ᴜ", "u"), ("ᴠ", "v"), ("ᴡ", "w"), ("ʏ", "y"), ("ᴢ", "z"),
            // Signs of chat-template tokens
            ("ǀ", "|"), ("∣", "|"), ("│", "|"), ("┃", "|"), ("❘", "|"), ("‹", "<"), ("›", ">"), ("〈", "<"), ("〉", ">"), ("❮", "<"),
            ("❯", ">"),
        ]
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }()

    /// The chat-template or block-marker text in `compact` (normalized, without whitespace).
    static func controlText(in compact: String) -> String? {
        let fixed = ["[inst]", "[/inst]", "<<sys>>", "<</sys>>", "<start_of_turn>", "<end_of_turn>", "<recalled-memories",
                     "</recalled-memories", "<\\/recalled-memories"]
        if let token = fixed.first(where: compact.contains) { return token }
        // Any `<|name|>`: every template's own (`<|im_start|>`, `<|eot_id|>`, `<|begin▁of▁sentence|>`).
        var rest = compact[...]
        while let open = rest.range(of: "<|") {
            let name = rest[open.upperBound...].prefix { $0.isLetter || $0.isNumber || "_-.▁".contains($0) }
            if !name.isEmpty, name.count <= 40, rest[name.endIndex...].hasPrefix("|>") { return "<|\(name)|>" }
            rest = rest[open.upperBound...]
        }
        return nil
    }

    /// The words of `folded`, lower-cased: split at anything not a letter and where camel case
    /// starts a word ("IgnorePreviousInstructions").
    static func words(of folded: String) -> [String] {
        var words: [String] = []
        var word = ""
        var previous: Character?
        for character in folded {
            if !character.isLetter {
                if !word.isEmpty { words.append(word.lowercased()) }
                word = ""
            } else {
                if let previous, previous.isLowercase, character.isUppercase, !word.isEmpty {
                    words.append(word.lowercased())
                    word = ""
                }
                word.append(character)
            }
            previous = character
        }
        if !word.isEmpty { words.append(word.lowercased()) }
        return words
    }

    /// Phrases that address a model, a word at a time, each word one of its alternatives.
    static let phrases: [[Set<String>]] = [
        "ignore|disregard|forget|override|bypass previous|prior|above|earlier|preceding|all|any|your|system|developer|original|initial "
            + "instructions|instruction|directions|directives|guidelines|rules|programming|guardrails|constraints",
        "ignore|disregard|forget|override|bypass system prompt|prompts|message",
        "disregard previous|prior|all|above|earlier|everything", "disregard the above",
        "override|bypass instructions|guardrails|restrictions|filters",
        "reveal|print|show|repeat|output|leak|dump system|hidden|secret|initial|original|your prompt|instructions",
        "your new instructions|rules|role|task|prompt|persona", "new system instructions|prompt|rules|message",
        "you are now", "from now on you", "jailbreak|jailbroken",
    ].map { $0.split(separator: " ").map { Set($0.split(separator: "|").map(String.init)) } }

    /// The words of `phrase` as found in `words` in order, each word at most `gap` words after
    /// the one before ("ignore all of the previous instructions"); `nil` when it is not there.
    static func match(_ words: [String], inOrderWithin gap: Int, _ phrase: [Set<String>]) -> [String]? {
        guard let first = phrase.first else { return nil }
        for start in words.indices where first.contains(words[start]) {
            var at = start
            var found = [words[start]]
            for alternatives in phrase.dropFirst() {
                guard let next = words[(at + 1)..<min(words.count, at + 1 + gap)].firstIndex(where: alternatives.contains) else { break }
                at = next
                found.append(words[next])
            }
            if found.count == phrase.count { return found }
        }
        return nil
    }

    /// `phrase` in text spelled out a letter at a time ("i g n o r e  a l l  p r e v i o u s …"):
    /// each run of four or more one-letter words is read as one string, searched for the
    /// phrase's words in order, each at most a few letters after the one before.
    static func matchSpelledOut(_ words: [String], _ phrase: [Set<String>]) -> [String]? {
        var runs: [String] = []
        var run = ""
        for word in words + [""] {
            if word.count == 1 {
                run += word
            } else {
                if run.count >= 4 { runs.append(run) }
                run = ""
            }
        }
        for run in runs {
            var found: [String] = []
            var rest = run[...]
            for alternatives in phrase {
                let hits = alternatives.compactMap { word in rest.range(of: word).map { (word, $0) } }
                guard let (word, range) = hits.min(by: { $0.1.lowerBound < $1.1.lowerBound }),
                    found.isEmpty || rest.distance(from: rest.startIndex, to: range.lowerBound) <= 12
                else { break }
                found.append(word)
                rest = rest[range.upperBound...]
            }
            if found.count == phrase.count { return found }
        }
        return nil
    }

    /// The chat role a line of normalized text poses as (`system: …`, `[assistant]`,
    /// `### Instruction`), if it does.
    static func role(posedBy line: Substring) -> String? {
        let lead = line.prefix { !$0.isLetter }
        let word = line[lead.endIndex...].prefix { $0.isLetter }
        let after = line[word.endIndex...].drop { $0 == " " || $0 == "\t" }
        if ["system", "assistant", "developer"].contains(String(word)), let sign = after.first, ":]>|".contains(sign) {
            return String(line.prefix(24)).trimmingCharacters(in: .whitespaces)
        }
        if lead.contains("#"), ["instruction", "instructions", "system"].contains(String(word)), after.isEmpty || after.first == ":" {
            return String(line.prefix(24)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
