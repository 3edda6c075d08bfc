import Foundation

/// Splits text into the tokens SQLite's FTS5 makes with `tokenize='porter unicode61
/// remove_diacritics 2'`, so the in-memory BM25 index counts what the store's index counts.
///
/// ASCII text, the common case, is cut and folded byte by byte; other text goes through Unicode
/// properties (letters, numbers and private-use characters are word characters; case folded,
/// diacritics removed). Each token is then stemmed as FTS5's Porter stemmer does.
public enum LexicalTokenizer {
    /// The tokens of `text`, in order, repeats kept.
    public static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        forEachToken(in: text) { tokens.append(String(decoding: $0, as: UTF8.self)) }
        return tokens
    }

    /// Calls `body` with the bytes of each token of `text`.
    static func forEachToken(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        forEachWord(in: text) { word in
            var token = Array(word)
            PorterStemmer.emit(&token, body)
        }
    }

    /// Calls `body` with the bytes of each word of `text`, folded but not yet stemmed.
    static func forEachWord(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        let ascii: Bool? = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return false }
            var token: [UInt8] = []
            token.reserveCapacity(64)
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): token.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): token.append(byte + 32)
                default:
                    if !token.isEmpty { flush(&token, body) }
                }
            }
            if !token.isEmpty { flush(&token, body) }
            return true
        }
        if ascii == true { return }
        var token: [UInt8] = []
        for scalar in text.unicodeScalars {
            if isTokenCharacter(scalar) {
                for folded in fold(scalar) { token.append(contentsOf: String(folded).utf8) }
            } else if scalar.properties.generalCategory == .nonspacingMark, !token.isEmpty {
                // A combining diacritic inside a word is dropped, not a separator.
                continue
            } else if !token.isEmpty {
                flush(&token, body)
            }
        }
        if !token.isEmpty { flush(&token, body) }
    }

    private static func flush(_ token: inout [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        token.withUnsafeBufferPointer(body)
        token.removeAll(keepingCapacity: true)
    }

    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .privateUse:
            return true
        default:
            return false
        }
    }

    /// Lower case without diacritics: the canonical decomposition's base characters.
    private static func fold(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        let lower = scalar.properties.lowercaseMapping
        return String(lower).decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
        }
    }
}
