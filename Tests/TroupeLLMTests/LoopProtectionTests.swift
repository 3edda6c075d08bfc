import Foundation
import Testing
@testable import TroupeLLM

/// The embedded model no longer writes a sentence twice in a reply: the DRY penalty and the
/// stop at a repeated sentence, on prompts that made SmolLM2-135M loop.
@Suite("Loop protection on the real model")
struct LoopProtectionTests {
    static let prompts = [
        "Tell me about your favorite book.", "Write a short story about a dragon.", "Explain how photosynthesis works.",
        "List the benefits of exercise.", "What is the meaning of life?", "Describe a sunset at the beach.",
        "Give me tips to study better.", "Write a poem about the sea.", "What did we decide about the deploy?", "Tell me about cats.",
    ]

    /// Sentences (ended by `.`, `!`, `?` and a space, or a line end) of 16 characters or more
    /// that occur again later in `text`: each occurrence after the first counts.
    static func repeatedSentences(_ text: String) -> Int {
        let sentences = text.replacingOccurrences(of: "([.!?])\\s+", with: "$1\n", options: .regularExpression)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count >= RepeatedSentences.shortest }
        var seen = Set<String>(), repeats = 0
        for sentence in sentences where !seen.insert(sentence).inserted { repeats += 1 }
        return repeats
    }

    /// Greedy replies of up to 200 tokens, without and with the protection (both printed; in a
    /// debug build about 20 s).
    @Test func noReplyRepeatsASentence() async throws {
        let backend = try await BackendTests.backend()
        let before = SamplingOptions(temperature: 0, repetitionPenalty: 1, maxTokens: 200, dry: .off, stopsAtRepeatedSentence: false)
        let after = SamplingOptions(temperature: 0, repetitionPenalty: 1, maxTokens: 200)
        var figures: [(old: Int, new: Int, oldTokens: Int, newTokens: Int)] = []
        for prompt in Self.prompts {
            let messages = [ChatMessage(.user, prompt)]
            let old = try await backend.complete(ChatRequest(messages: messages, sampling: before))
            let new = try await backend.complete(ChatRequest(messages: messages, sampling: after))
            figures.append((Self.repeatedSentences(old.text), Self.repeatedSentences(new.text), old.usage.completionTokens, new.usage.completionTokens))
            #expect(Self.repeatedSentences(new.text) == 0, "\(prompt): \(new.text)")
        }
        let old = figures.map(\.old).reduce(0, +), new = figures.map(\.new).reduce(0, +)
        print("repeated sentences over \(Self.prompts.count) greedy replies of up to 200 tokens: \(old) before, \(new) after; "
              + "replies that repeat: \(figures.filter { $0.old > 0 }.count) before, \(figures.filter { $0.new > 0 }.count) after; "
              + "tokens: \(figures.map(\.oldTokens).reduce(0, +)) before, \(figures.map(\.newTokens).reduce(0, +)) after")
        #expect(old > 0, "the prompts no longer make the model loop: pick others")
    }
}
