import Foundation

extension TokenSampler {
    /// The longest repeat DRY measures: the penalty at this length (0.8 · 1.75^30 ≈ 1.5e7 with
    /// the standard values) already rules the token out, and a cap keeps a long loop's scan short.
    static let longestRepeat = 32

    /// Lowers the logit of every token that would extend a repeat of `allowedLength` or more
    /// tokens of `reply`: for each earlier place where the reply's last token occurred, the token
    /// that followed it there gets `multiplier · base^(length − allowedLength)`, where `length` is
    /// how many tokens before it match the reply's end (the longest match per token counts).
    /// Matches stop at a breaker; a breaker is never penalised. O(reply) per step, plus the matches.
    static func applyDRY(_ dry: DRYPenalty, to logits: UnsafeMutableBufferPointer<Float>, reply: ArraySlice<Int32>, breakers: Set<Int32>) {
        let tokens = Array(reply)
        let n = tokens.count
        guard n >= dry.allowedLength, let last = tokens.last, !breakers.contains(last) else { return }
        var longest: [Int32: Int] = [:]
        for i in 0..<(n - 1) where tokens[i] == last {
            let next = tokens[i + 1]
            guard !breakers.contains(next) else { continue }
            var length = 1
            while length < longestRepeat, i - length >= 0 {
                let earlier = tokens[i - length]
                guard earlier == tokens[n - 1 - length], !breakers.contains(earlier) else { break }
                length += 1
            }
            if length > longest[next, default: 0] { longest[next] = length }
        }
        for (token, length) in longest where length >= dry.allowedLength && token >= 0 && Int(token) < logits.count {
            logits[Int(token)] -= Float(dry.multiplier * pow(dry.base, Double(length - dry.allowedLength)))
        }
    }

    /// The tokens whose text holds a newline, `:`, `"` or `*` (llama.cpp's default breakers):
    /// list markers, JSON keys and speaker tags may recur without extending a repeat.
    static func sequenceBreakers(_ tokenizer: BPETokenizer) -> Set<Int32> {
        let marks: Set<UInt8> = [UInt8(ascii: "\n"), UInt8(ascii: ":"), UInt8(ascii: "\""), UInt8(ascii: "*")]
        var breakers: Set<Int32> = []
        for id in 0..<Int32(tokenizer.count) where tokenizer.bytes(of: id).contains(where: marks.contains) {
            breakers.insert(id)
        }
        return breakers
    }
}
