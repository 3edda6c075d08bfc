import Foundation
import Testing
@testable import TroupeLLM

@Suite("Sampling and reply text")
struct SamplingTests {
    static func draw(_ sampler: inout TokenSampler, _ logits: [Float], recent: [Int32] = []) -> Int32 {
        var copy = logits
        return copy.withUnsafeMutableBufferPointer { sampler.next($0, recent: recent[...]) }
    }

    static let logits: [Float] = [2.0, 1.0, 0.5, 3.0, -1.0, 2.5, 0.0, 1.5]

    @Test func aSeedRepeatsExactly() async throws {
        // 6000 draws: seconds in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.sampling") { () async throws in
            let options = SamplingOptions(temperature: 1.0, topP: 1.0, topK: 0, repetitionPenalty: 1, seed: 42)
            var a = TokenSampler(options: options), b = TokenSampler(options: options)
            let first = (0..<2000).map { _ in Self.draw(&a, Self.logits) }
            let second = (0..<2000).map { _ in Self.draw(&b, Self.logits) }
            #expect(first == second)
            var other = TokenSampler(options: SamplingOptions(temperature: 1.0, topP: 1.0, topK: 0, repetitionPenalty: 1, seed: 43))
            #expect((0..<2000).map { _ in Self.draw(&other, Self.logits) } != first)
            // At temperature 1 every token has a chance: all eight come up in 2000 draws (the least likely
            // has p = 0.0074: missing it 2000 times has odds of 4e-7).
            #expect(Set(first).count == 8)
        }
    }

    @Test func greedyTakesTheLargestAndIgnoresTheSeed() {
        var sampler = TokenSampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 1))
        #expect((0..<5).allSatisfy { _ in Self.draw(&sampler, Self.logits) == 3 })
    }

    @Test func topKKeepsOnlyTheKBest() {
        var sampler = TokenSampler(options: SamplingOptions(temperature: 5, topP: 1, topK: 3, repetitionPenalty: 1, seed: 1))
        let drawn = Set((0..<500).map { _ in Self.draw(&sampler, Self.logits) })
        #expect(drawn == [3, 5, 0])
    }

    @Test func topPCutsTheTail() {
        // Softmax of [3, 2.5, 2, 1.5, 1, 0.5, 0, −1]: the best one holds 0.40 of the mass, the best
        // two 0.65, the best three 0.80.
        let values: [Float] = [3, 2.5, 2, 1.5, 1, 0.5, 0, -1]
        #expect(TokenSampler.candidateWeights(values, temperature: 1, topP: 0.6).count == 2)
        #expect(TokenSampler.candidateWeights(values, temperature: 1, topP: 0.7).count == 3)
        #expect(TokenSampler.candidateWeights(values, temperature: 1, topP: 0.3).count == 1)
        #expect(TokenSampler.candidateWeights([3, 2.5, 2], temperature: 1, topP: 1).count == 3)
        #expect(TokenSampler.candidateWeights([3, -50], temperature: 1, topP: 0.5).count == 1)
        var sampler = TokenSampler(options: SamplingOptions(temperature: 1, topP: 0.7, topK: 0, repetitionPenalty: 1, seed: 2))
        #expect(Set((0..<500).map { _ in Self.draw(&sampler, Self.logits) }) == [3, 5, 0])
    }

    @Test func repetitionPenaltyShrinksRecentTokens() {
        var sampler = TokenSampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 2))
        // 3 (logit 3) is recent: 3 / 2 = 1.5 falls below 5 (2.5) and 0 (2.0).
        #expect(Self.draw(&sampler, Self.logits, recent: [3]) == 5)
        #expect(Self.draw(&sampler, Self.logits, recent: [3, 5]) == 0)
        var logits = Self.logits
        logits.withUnsafeMutableBufferPointer { _ = sampler.next($0, recent: [4, 3, 3][...]) }
        #expect(logits[4] == -2 && logits[3] == 1.5 && logits[0] == 2)  // negative grows, each id once
        // Only the last penaltyWindow tokens count.
        let old = [Int32](repeating: 3, count: 1) + [Int32](repeating: 7, count: TokenSampler.penaltyWindow)
        #expect(Self.draw(&sampler, Self.logits, recent: old) == 3)
    }

    @Test func replyTextWaitsForWholeCharacters() {
        var text = ReplyText(stop: [])
        let bytes = Array("é🚀".utf8)  // 2 + 4 bytes
        #expect(text.append(bytes[0..<1]) == "")
        #expect(text.append(bytes[1..<3]) == "é")
        #expect(text.append(bytes[3..<5]) == "")
        #expect(text.append(bytes[5..<6]) == "🚀")
        #expect(text.append([0xE2, 0x82]) == "")
        #expect(text.finish() == "\u{FFFD}")
    }

    @Test func stopStringsAreCutAndNeverEmitted() {
        var text = ReplyText(stop: ["\nUser:", "###"])
        var out = text.append(Array("Hello there.\nUs".utf8))
        #expect(out == "Hello there.")  // "\nUs" might begin a stop string: held
        out += text.append(Array("ually".utf8))
        #expect(out == "Hello there.\nUsually")
        out += text.append(Array(" fine.\nUse".utf8))
        out += text.append(Array("r: next".utf8))
        #expect(text.stopped)
        #expect(out == "Hello there.\nUsually fine.")
        #expect(text.append(Array("more".utf8)) == "" && text.finish() == "")

        var other = ReplyText(stop: ["###"])
        #expect(other.append(Array("a#".utf8)) == "a")
        #expect(other.append(Array("#".utf8)) == "")
        #expect(other.finish() == "##")  // the reply ended before the stop string completed
    }
}
