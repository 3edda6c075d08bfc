import Foundation
import TroupeCore

/// Chooses each next token from the logits: a repetition penalty over the last
/// `penaltyWindow` tokens and the DRY penalty over the reply (see ``DRYPenalty``), then greedy
/// (temperature 0) or sampling from the top-k, top-p candidates at the temperature. Its random
/// numbers come from its own seeded generator, so a seed makes a reply repeat exactly.
struct TokenSampler {
    var options: SamplingOptions
    /// How many recent tokens (prompt included) the repetition penalty looks at, as llama.cpp's
    /// default `repeat_last_n`.
    static let penaltyWindow = 64
    /// Tokens a DRY match never runs across (``sequenceBreakers(_:)``).
    let breakers: Set<Int32>
    private var random: Xoshiro256

    init(options: SamplingOptions, breakers: Set<Int32> = []) {
        self.options = options
        self.breakers = breakers
        var seeder = SystemRandomNumberGenerator()
        random = Xoshiro256(seed: options.seed ?? seeder.next())
    }

    /// The next token after `recent` (the context's last tokens) and `reply` (the reply's tokens
    /// so far). `logits` is changed (the penalties are applied in place).
    mutating func next(_ logits: UnsafeMutableBufferPointer<Float>, recent: ArraySlice<Int32>, reply: ArraySlice<Int32> = []) -> Int32 {
        if options.dry.isOn { Self.applyDRY(options.dry, to: logits, reply: reply, breakers: breakers) }
        let penalty = Float(options.repetitionPenalty)
        if penalty != 1, penalty > 0 {
            // CTRL's penalty, as llama.cpp applies it: shrink a positive logit, grow a negative one.
            for id in Set(recent.suffix(Self.penaltyWindow)) where id >= 0 && Int(id) < logits.count {
                let value = logits[Int(id)]
                logits[Int(id)] = value > 0 ? value / penalty : value * penalty
            }
        }
        if options.temperature <= 0 { return Int32(LLMKernels.argmax(logits.baseAddress!, count: logits.count)) }
        let k = options.topK > 0 ? min(options.topK, logits.count) : logits.count
        let top = LLMKernels.topK(logits.baseAddress!, count: logits.count, k: k)
        let weights = Self.candidateWeights(top.values, temperature: options.temperature, topP: options.topP)
        let total = weights.reduce(0, +)
        var draw = random.nextUnitDouble() * total
        for (i, weight) in weights.enumerated() {
            draw -= weight
            if draw < 0 { return top.ids[i] }
        }
        return top.ids[weights.count - 1]
    }

    /// Unnormalised probabilities of the candidates (best first) at the temperature, cut to the
    /// fewest whose probability reaches topP (always at least one).
    static func candidateWeights(_ values: [Float], temperature: Double, topP: Double) -> [Double] {
        guard let best = values.first else { return [] }
        var weights = values.map { exp(Double($0 - best) / temperature) }
        if topP < 1 {
            let total = weights.reduce(0, +)
            var sum = 0.0, keep = weights.count
            for (i, weight) in weights.enumerated() {
                sum += weight
                if sum >= topP * total {
                    keep = i + 1
                    break
                }
            }
            weights.removeSubrange(keep...)
        }
        return weights
    }
}

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: fast, and the same stream for
/// the same seed on every platform.
struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }
}
