/// The Porter stemmer exactly as SQLite's FTS5 `porter` tokenizer applies it (fts5_tokenize.c),
/// working on lower-case bytes. Tokens shorter than 3 or longer than 64 bytes pass unchanged.
enum PorterStemmer {
    /// Stems `token` in place, hands it to `body` and empties it.
    static func emit(_ token: inout [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if token.count >= 3 && token.count <= 64 { stem(&token) }
        token.withUnsafeBufferPointer(body)
        token.removeAll(keepingCapacity: true)
    }

    static func stem(_ w: inout [UInt8]) {
        step1a(&w)
        if step1b(&w) {
            if !step1b2(&w) {
                let c = w[w.count - 1]
                if !isVowel(c, yIsVowel: false) && c != ascii("l") && c != ascii("s") && c != ascii("z") && c == w[w.count - 2] {
                    w.removeLast()
                } else if measureEquals1(w[...]) && endsCVC(w[...]) {
                    w.append(ascii("e"))
                }
            }
        }
        if w[w.count - 1] == ascii("y") && hasVowel(w.dropLast()) { w[w.count - 1] = ascii("i") }
        replace(&w, step2, when: measureAbove0)
        replace(&w, step3, when: measureAbove0)
        replace(&w, step4, when: { $0.count > 0 && measureAbove1($0) })
        if w[w.count - 1] == ascii("e") {
            let stem = w.dropLast()
            if measureAbove1(stem) || (measureEquals1(stem) && !endsCVC(stem)) { w.removeLast() }
        }
        if w.count > 1 && w[w.count - 1] == ascii("l") && w[w.count - 2] == ascii("l") && measureAbove1(w.dropLast()) {
            w.removeLast()
        }
    }

    // MARK: Steps

    private static func step1a(_ w: inout [UInt8]) {
        let n = w.count
        guard w[n - 1] == ascii("s") else { return }
        if w[n - 2] == ascii("e") {
            let sses = n > 4 && w[n - 4] == ascii("s") && w[n - 3] == ascii("s")
            w.removeLast(sses || (n > 3 && w[n - 3] == ascii("i")) ? 2 : 1)
        } else if w[n - 2] != ascii("s") {
            w.removeLast()
        }
    }

    private static func step1b(_ w: inout [UInt8]) -> Bool {
        if ends(w, eed) {
            if measureAbove0(w.dropLast(3)) { w.removeLast() }
            return false
        }
        for suffix in [ed, ing] where ends(w, suffix) {
            guard hasVowel(w.dropLast(suffix.count)) else { return false }
            w.removeLast(suffix.count)
            return true
        }
        return false
    }

    private static func step1b2(_ w: inout [UInt8]) -> Bool {
        for suffix in lengthening where ends(w, suffix) {
            w.append(ascii("e"))
            return true
        }
        return false
    }

    /// Suffix rules in FTS5's order (the first suffix that matches decides, met or not).
    private typealias Rule = (suffix: [UInt8], replacement: [UInt8])

    private static func rules(_ pairs: [(String, String)]) -> [Rule] { pairs.map { (Array($0.0.utf8), Array($0.1.utf8)) } }

    private static let step2 = rules([
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"), ("logi", "log"),
        ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"),
        ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
        ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
    ])
    private static let step3 = rules([
        ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
    ])
    private static let step4 = rules([
        ("al", ""), ("ance", ""), ("ence", ""), ("er", ""), ("ic", ""), ("able", ""), ("ible", ""), ("ant", ""),
        ("ement", ""), ("ment", ""), ("ent", ""), ("ion", ""), ("ou", ""), ("ism", ""), ("ate", ""), ("iti", ""),
        ("ous", ""), ("ive", ""), ("ize", ""),
    ])

    private static let ion = Array("ion".utf8)

    private static func replace(_ w: inout [UInt8], _ rules: [Rule], when condition: (ArraySlice<UInt8>) -> Bool) {
        for rule in rules where ends(w, rule.suffix) {
            let stem = w.dropLast(rule.suffix.count)
            if rule.suffix == ion {
                // (m > 1 and (*S or *T))
                guard let last = stem.last, last == ascii("s") || last == ascii("t"), measureAbove1(stem) else { return }
            } else if !condition(stem) {
                return
            }
            w.removeLast(rule.suffix.count)
            w.append(contentsOf: rule.replacement)
            return
        }
    }

    // MARK: Conditions, as fts5_tokenize.c defines them

    private static func ascii(_ c: Unicode.Scalar) -> UInt8 { UInt8(c.value) }

    /// Whether `w` ends with `suffix` and keeps at least one byte before it.
    private static func ends(_ w: [UInt8], _ suffix: [UInt8]) -> Bool {
        guard w.count > suffix.count else { return false }
        let start = w.count - suffix.count
        for i in suffix.indices where w[start + i] != suffix[i] { return false }
        return true
    }

    private static let eed = Array("eed".utf8), ed = Array("ed".utf8), ing = Array("ing".utf8)
    private static let lengthening = [Array("at".utf8), Array("bl".utf8), Array("iz".utf8)]

    private static func isVowel(_ c: UInt8, yIsVowel: Bool) -> Bool {
        c == ascii("a") || c == ascii("e") || c == ascii("i") || c == ascii("o") || c == ascii("u") || (yIsVowel && c == ascii("y"))
    }

    /// Skips a vowel run then a consonant; returns the index after it, or nil.
    private static func gobbleVC(_ w: ArraySlice<UInt8>, previousConsonant: Bool) -> ArraySlice<UInt8>.Index? {
        var consonant = previousConsonant
        var i = w.startIndex
        while i < w.endIndex {
            consonant = !isVowel(w[i], yIsVowel: consonant)
            if !consonant { break }
            i += 1
        }
        i += 1
        while i < w.endIndex {
            consonant = !isVowel(w[i], yIsVowel: consonant)
            if consonant { return i + 1 }
            i += 1
        }
        return nil
    }

    private static func measureAbove0(_ w: ArraySlice<UInt8>) -> Bool { gobbleVC(w, previousConsonant: false) != nil }

    private static func measureAbove1(_ w: ArraySlice<UInt8>) -> Bool {
        guard let n = gobbleVC(w, previousConsonant: false) else { return false }
        return gobbleVC(w[n...], previousConsonant: true) != nil
    }

    private static func measureEquals1(_ w: ArraySlice<UInt8>) -> Bool {
        guard let n = gobbleVC(w, previousConsonant: false) else { return false }
        return gobbleVC(w[n...], previousConsonant: true) == nil
    }

    /// *o: ends consonant-vowel-consonant, the last not w, x or y.
    private static func endsCVC(_ w: ArraySlice<UInt8>) -> Bool {
        guard let last = w.last, last != ascii("w"), last != ascii("x"), last != ascii("y") else { return false }
        var mask = 0
        var consonant = false
        for c in w {
            consonant = !isVowel(c, yIsVowel: consonant)
            mask = (mask << 1) + (consonant ? 1 : 0)
        }
        return mask & 7 == 5
    }

    private static func hasVowel(_ w: ArraySlice<UInt8>) -> Bool {
        for (offset, c) in w.enumerated() where isVowel(c, yIsVowel: offset > 0) { return true }
        return false
    }
}
