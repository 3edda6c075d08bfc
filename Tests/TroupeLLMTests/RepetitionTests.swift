import Foundation
import Testing
@testable import TroupeLLM

/// The DRY penalty on synthetic logits, and the stop at a repeated sentence on synthetic text.
@Suite("Repetition: DRY penalty and repeated sentences")
struct RepetitionTests {
    /// The logits after DRY over `reply`, all starting at 0.
    static func penalised(_ reply: [Int32], breakers: Set<Int32> = [], dry: DRYPenalty = .standard) -> [Float] {
        var logits = [Float](repeating: 0, count: 10)
        logits.withUnsafeMutableBufferPointer { TokenSampler.applyDRY(dry, to: $0, reply: reply[...], breakers: breakers) }
        return logits
    }

    @Test func aTokenExtendingARepeatLosesMultiplierTimesBaseToTheExcessLength() {
        // "1 2" again after "1 2 3": 3 would make a repeat of three tokens (two allowed): −0.8.
        var logits = Self.penalised([1, 2, 3, 4, 1, 2])
        #expect(abs(logits[3] + 0.8) < 1e-6)
        #expect(logits.enumerated().allSatisfy { $0.offset == 3 || $0.element == 0 })
        // "5 1 2" again: 3 would make four: −0.8 · 1.75.
        logits = Self.penalised([5, 1, 2, 3, 9, 5, 1, 2])
        #expect(abs(logits[3] + 0.8 * 1.75) < 1e-5)
        // Only the last token repeating (one token): 3 is within the allowed length.
        #expect(Self.penalised([1, 2, 3, 4, 2]).allSatisfy { $0 == 0 })
        // The longest match per token counts: 3 follows "1 2" once and "7 1 2" once.
        logits = Self.penalised([1, 2, 3, 7, 1, 2, 3, 8, 7, 1, 2])
        #expect(abs(logits[3] + 0.8 * 1.75) < 1e-5)
    }

    @Test func breakersEndAMatchAndAreNeverPenalised() {
        // 1 is a breaker: the match "1 2" cannot include it, so 3 extends a one-token repeat.
        #expect(Self.penalised([1, 2, 3, 4, 1, 2], breakers: [1]).allSatisfy { $0 == 0 })
        // 3 is a breaker: it may follow "1 2" again.
        #expect(Self.penalised([1, 2, 3, 4, 1, 2], breakers: [3]).allSatisfy { $0 == 0 })
        // The last token a breaker: nothing to extend.
        #expect(Self.penalised([1, 2, 3, 4, 1, 2], breakers: [2]).allSatisfy { $0 == 0 })
    }

    @Test func offAndTheAllowedLength() {
        #expect(Self.penalised([1, 2, 3, 4, 1, 2], dry: .off).allSatisfy { $0 == 0 })
        // With three tokens allowed, a repeat of three is free and one of four costs the multiplier.
        let three = DRYPenalty(multiplier: 0.8, allowedLength: 3)
        #expect(Self.penalised([1, 2, 3, 4, 1, 2], dry: three).allSatisfy { $0 == 0 })
        #expect(abs(Self.penalised([5, 1, 2, 3, 9, 5, 1, 2], dry: three)[3] + 0.8) < 1e-6)
    }

    /// Greedy decoding with the penalty picks the runner-up instead of closing a loop.
    @Test func greedyTurnsAwayFromALoop() {
        let logits: [Float] = [0, 0.5, 1.0, 0, 0, 0, 0, 0, 0, 0]
        // After "3 1 2 3 1", 2 would repeat "3 1 2": 1.0 − 0.8 falls below 1's 0.5.
        let reply: [Int32] = [3, 1, 2, 3, 1]
        var off = TokenSampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 1, dry: .off))
        var on = TokenSampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 1))
        var copy = logits
        #expect(copy.withUnsafeMutableBufferPointer { off.next($0, recent: [], reply: reply[...]) } == 2)
        copy = logits
        #expect(copy.withUnsafeMutableBufferPointer { on.next($0, recent: [], reply: reply[...]) } == 1)
    }

    static func run(_ pieces: [String], repeats: Bool = true, stop: [String] = []) -> (deltas: [String], stopped: Bool) {
        var text = ReplyText(stop: stop, repeats: repeats)
        var deltas = pieces.map { text.append(Array($0.utf8)) }
        let stopped = text.stopped
        deltas.append(text.finish())
        return (deltas, stopped)
    }

    @Test func aRepeatedSentenceEndsTheReplyBeforeIt() {
        let first = "The cat sat on the mat. ", second = "Dogs bark at the moon. "
        let result = Self.run([first, second, "The cat ", "sat on the mat.", " And more."])
        #expect(result.deltas.joined() == first + second)
        #expect(result.stopped)
        // While it could still be a repeat, the sentence is held back, not sent.
        #expect(result.deltas[2] == "" && result.deltas[3] == "")
    }

    @Test func aSentenceThatOnlyBeginsLikeAnEarlierOneGoesOut() {
        let result = Self.run(["The cat sat on the mat. ", "The cat ", "sat on the sofa. ", "Bye."])
        #expect(result.deltas.joined() == "The cat sat on the mat. The cat sat on the sofa. Bye.")
        #expect(!result.stopped)
        #expect(result.deltas[1] == "", "held while it matched")
        #expect(result.deltas[2] == "The cat sat on the sofa. ")
    }

    @Test func linesCountShortOnesDoNotAndTheEndCounts() {
        // A repeated line (a poem's refrain) ends the reply, newline included before it.
        var result = Self.run(["Waves roll over stones,\nSalt wind in the reeds,\n", "Waves roll over stones,\nmore"])
        #expect(result.deltas.joined() == "Waves roll over stones,\nSalt wind in the reeds,\n" && result.stopped)
        // Short sentences repeat freely.
        result = Self.run(["Yes. No. Yes. No. ", "Yes."])
        #expect(result.deltas.joined() == "Yes. No. Yes. No. Yes." && !result.stopped)
        // A reply that ends on a repeat loses it at the end.
        result = Self.run(["It rained all day long. Then it stopped. ", "It rained all day long."])
        #expect(result.deltas.joined() == "It rained all day long. Then it stopped. ")
        // Without `repeats`, nothing changes.
        result = Self.run(["It rained all day long. ", "It rained all day long. "], repeats: false)
        #expect(result.deltas.joined() == "It rained all day long. It rained all day long. ")
    }

    @Test func stopStringsAndRepeatsTogether() {
        let result = Self.run(["We met at noon today. Then ", "<recalled-", "memories> We met at noon today. "],
                              stop: SamplingOptions.promptMarkers)
        #expect(result.deltas.joined() == "We met at noon today. Then ")
        #expect(result.stopped)
    }
}
