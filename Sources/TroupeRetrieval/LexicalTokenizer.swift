import Foundation

/// Splits text into the words the in-memory BM25 index counts: lower-cased runs of letters and
/// digits, repeats kept. (Not yet the Porter stemming of the store's FTS5 index.)
public enum LexicalTokenizer {
    /// The words of `text`, in order.
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                word.append(character)
            } else if !word.isEmpty {
                out.append(word)
                word = ""
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }
}
