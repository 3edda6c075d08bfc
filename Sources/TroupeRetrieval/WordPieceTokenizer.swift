import Foundation
import TroupeCore

/// BERT's uncased tokenizer: clean-up, CJK splitting, lower-casing, accent stripping,
/// punctuation splitting, then greedy longest-match WordPiece against `vocab.txt`.
struct WordPieceTokenizer: Sendable {
    let vocabulary: [String: Int32]
    let tokens: [String]
    let unknown: Int32, classification: Int32, separator: Int32
    /// Tokens per sentence, [CLS] and [SEP] included.
    let maxLength: Int

    init(vocabularyFile path: String, maxLength: Int = 256) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TroupeError(.unavailable, "cannot read the vocabulary", context: path)
        }
        var tokens = text.components(separatedBy: "\n")
        if tokens.last == "" { tokens.removeLast() }
        var vocabulary: [String: Int32] = [:]
        for (i, token) in tokens.enumerated() where vocabulary[token] == nil { vocabulary[token] = Int32(i) }
        guard let unk = vocabulary["[UNK]"], let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"] else {
            throw TroupeError(.invalidInput, "vocabulary lacks [UNK], [CLS] or [SEP]", context: path)
        }
        self.tokens = tokens
        self.vocabulary = vocabulary
        (unknown, classification, separator) = (unk, cls, sep)
        self.maxLength = maxLength
    }

    /// The token ids of `text`: [CLS], word pieces (truncated), [SEP].
    func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classification]
        for word in words(text) {
            wordPieces(word, into: &ids)
            if ids.count >= maxLength - 1 { break }
        }
        if ids.count > maxLength - 1 { ids.removeLast(ids.count - (maxLength - 1)) }
        ids.append(separator)
        return ids
    }

    /// The token strings of `text`, as `encode` makes them.
    func tokenStrings(_ text: String) -> [String] { encode(text).map { tokens[Int($0)] } }

    // MARK: Basic tokenization

    /// Words after clean-up, lower-casing, accent stripping and punctuation splitting.
    func words(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD || (Self.isControl(scalar) && !Self.isWhitespace(scalar)) { continue }
            if Self.isWhitespace(scalar) {
                flush()
            } else if Self.isCJK(value) {
                flush()
                words.append([scalar])
            } else {
                for folded in Self.fold(scalar) {
                    if Self.isPunctuation(folded) {
                        flush()
                        words.append([folded])
                    } else {
                        current.append(folded)
                    }
                }
            }
        }
        flush()
        return words
    }

    /// Lower case, canonical decomposition, combining marks removed (BERT's strip_accents).
    static func fold(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.isASCII {
            return [scalar.properties.isUppercase ? Unicode.Scalar(scalar.value + 32)! : scalar]
        }
        let lower = String(scalar.properties.lowercaseMapping)
        return lower.decomposedStringWithCanonicalMapping.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        let category = s.properties.generalCategory
        return category == .control || category == .format
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    // MARK: WordPiece

    /// Greedy longest-match-first; a word with any unmatched part, or over 100 characters,
    /// becomes one [UNK].
    func wordPieces(_ word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard word.count <= 100 else {
            ids.append(unknown)
            return
        }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.append(unknown)
                return
            }
            pieces.append(found)
            start = end
        }
        ids += pieces
    }
}
