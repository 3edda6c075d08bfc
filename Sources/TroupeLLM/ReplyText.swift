/// Turns a reply's bytes (a model's tokens, or a server's text) into text deltas: whole UTF-8
/// characters only (a character split across tokens waits for its last byte), and never a stop
/// string nor anything after one (text that could be the start of a stop string waits until it
/// is known not to be). With `repeats`, a sentence the reply already wrote ends it the same way
/// (see ``RepeatedSentences``).
struct ReplyText {
    private var pendingBytes: [UInt8] = []
    private var held: [Unicode.Scalar] = []
    private let stops: [[Unicode.Scalar]]
    private var sentences: RepeatedSentences?
    /// How many of `held` the sentence guard has seen.
    private var fed = 0
    /// Set once a stop string, or a repeated sentence, has appeared.
    private(set) var stopped = false

    init(stop: [String], repeats: Bool = false) {
        stops = stop.map { Array($0.unicodeScalars) }.filter { !$0.isEmpty }
        sentences = repeats ? RepeatedSentences() : nil
    }

    /// Takes the next token's bytes; returns the text that is now certain (possibly empty).
    mutating func append<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        guard !stopped else { return "" }
        pendingBytes += bytes
        let cut = Self.completePrefix(pendingBytes)
        guard cut > 0 else { return "" }
        held += String(decoding: pendingBytes[..<cut], as: UTF8.self).unicodeScalars
        pendingBytes.removeFirst(cut)
        return release()
    }

    /// The end of the reply: whatever is still held (an unfinished character becomes U+FFFD),
    /// unless a stop string ended it.
    mutating func finish() -> String {
        guard !stopped else { return "" }
        if !pendingBytes.isEmpty {
            held += String(decoding: pendingBytes, as: UTF8.self).unicodeScalars
            pendingBytes.removeAll()
        }
        var end = held.count
        if let repeated = feedSentences() ?? sentences?.finish() { end = repeated }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: held[..<end])
        held.removeAll()
        return String(view)
    }

    /// Shows the sentence guard what it has not seen of `held`; where a repeat starts, if one
    /// was completed.
    private mutating func feedSentences() -> Int? {
        guard sentences != nil else { return nil }
        while fed < held.count {
            let position = fed
            fed += 1
            if let start = sentences!.feed(held[position], at: position) { return start }
        }
        return nil
    }

    /// Emits the held text up to the first stop string or repeated sentence (and stops), or up
    /// to the longest tail that could begin a stop string, or the start of a sentence that could
    /// still turn out a repeat.
    private mutating func release() -> String {
        var emit = held.count
        if let repeated = feedSentences() {
            emit = repeated
            stopped = true
        }
        for stop in stops {
            if let at = Self.firstOccurrence(of: stop, in: held), at < emit {
                emit = at
                stopped = true
            }
        }
        if !stopped {
            for stop in stops {
                for length in stride(from: min(stop.count - 1, held.count), to: 0, by: -1)
                where held[(held.count - length)...].elementsEqual(stop[..<length]) {
                    emit = min(emit, held.count - length)
                    break
                }
            }
            if let from = sentences?.holdFrom { emit = min(emit, from) }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: held[..<emit])
        held.removeFirst(emit)
        fed -= emit
        sentences?.sent(emit)
        if stopped { held.removeAll() }
        return String(view)
    }

    private static func firstOccurrence(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// How many leading bytes form whole UTF-8 sequences: all of them, unless the last lead byte
    /// (within the last four) starts a sequence that has not arrived in full. Invalid bytes count
    /// as whole (they decode to U+FFFD).
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        var i = bytes.count - 1
        while i >= 0, bytes.count - i <= 4 {
            let byte = bytes[i]
            if byte & 0xC0 != 0x80 {
                let length: Int
                switch byte {
                case 0xC0..<0xE0: length = 2
                case 0xE0..<0xF0: length = 3
                case 0xF0..<0xF8: length = 4
                default: length = 1
                }
                return bytes.count - i < length ? i : bytes.count
            }
            i -= 1
        }
        return bytes.count
    }
}
