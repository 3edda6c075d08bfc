/// English function words, left out of a lexical query when ``RecallOptions/dropStopwords`` is on.
///
/// The list is NLTK's English stopword list, the most widely used one: its 153 words without an
/// apostrophe (the other 26 are contractions, and the pieces FTS5's tokenizer cuts them into —
/// "didn", "t", "ll" — are in the list, so "didn't" drops whole). Only queries are filtered: the index keeps every word, and BM25 over the words
/// kept is still exactly FTS5's for those words.
public enum QueryStopwords {
    public static let english: Set<String> = [
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves", "he",
        "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their", "theirs",
        "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be",
        "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if",
        "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between", "into",
        "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off",
        "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any",
        "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
        "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now", "d", "ll", "m", "o", "re", "ve", "y",
        "ain", "aren", "couldn", "didn", "doesn", "hadn", "hasn", "haven", "isn", "ma", "mightn", "mustn", "needn", "shan",
        "shouldn", "wasn", "weren", "won", "wouldn",
    ]

    /// The stemmed tokens of `text` without its stopwords, or all of them when nothing else is left.
    public static func contentTokens(_ text: String) -> [String] {
        var kept: [String] = [], all: [String] = []
        LexicalTokenizer.forEachWord(in: text) { word in
            let folded = String(decoding: word, as: UTF8.self)
            var token = Array(word)
            PorterStemmer.emit(&token) { stemmed in
                let term = String(decoding: stemmed, as: UTF8.self)
                all.append(term)
                if !english.contains(folded) { kept.append(term) }
            }
        }
        return kept.isEmpty ? all : kept
    }
}
