/// Notices a reply writing a sentence, or a line, it has already written: the sign of a small
/// model starting over on its own paragraph.
///
/// A sentence ends at a line end, or at `.`, `!` or `?` followed by whitespace (so `3.14` is
/// no end, and `e.g. ` is one: a short piece costs nothing, it is too short to count). Sentences
/// of fewer than ``shortest`` characters never count as repeats (`Yes.`, `1.`, a closing brace).
/// Comparison is exact, leading and trailing whitespace aside.
///
/// It works on positions in its caller's buffer of text not yet sent, so that the caller can
/// hold back a sentence while it could still turn out to be a repeat (``holdFrom``) and cut the
/// reply where a repeat began.
struct RepeatedSentences {
    static let shortest = 16
    private var earlier: [[Unicode.Scalar]] = []
    /// The sentence being written, from its first non-space character.
    private var sentence: [Unicode.Scalar] = []
    /// Where it starts in the caller's buffer; nil when part of it has left the buffer already.
    private var start: Int?

    /// Takes the character at `position` of the buffer; returns where a sentence that repeats
    /// an earlier one starts, when this character completed one (and the whole of it is still
    /// in the buffer).
    mutating func feed(_ scalar: Unicode.Scalar, at position: Int) -> Int? {
        if sentence.isEmpty {
            guard !scalar.properties.isWhitespace else { return nil }
            sentence = [scalar]
            start = position
            return nil
        }
        if scalar == "\n" || (scalar.properties.isWhitespace && [".", "!", "?"].contains(sentence.last!)) { return complete() }
        sentence.append(scalar)
        return nil
    }

    /// The end of the reply: where its last sentence starts, if that repeats an earlier one.
    mutating func finish() -> Int? {
        sentence.isEmpty ? nil : complete()
    }

    /// Where the buffer must hold text back from: the start of the sentence being written while
    /// it is the beginning of an earlier one.
    var holdFrom: Int? {
        guard let start, !sentence.isEmpty, earlier.contains(where: { $0.starts(with: sentence) }) else { return nil }
        return start
    }

    /// The caller sent the first `count` characters of its buffer (positions move down).
    mutating func sent(_ count: Int) {
        guard let position = start else { return }
        start = position >= count ? position - count : nil
    }

    private mutating func complete() -> Int? {
        defer {
            sentence = []
            start = nil
        }
        while let last = sentence.last, last.properties.isWhitespace { sentence.removeLast() }
        guard sentence.count >= Self.shortest else { return nil }
        if earlier.contains(sentence) { return start }
        earlier.append(sentence)
        return nil
    }
}
