import Foundation
import Testing
@testable import TroupeLLM

/// The decoder against the NumPy reference (../shared/reference/smollm2, README "What a Swift
/// implementation should check"). Prompts run in Float32 (weights dequantised on the fly, F32
/// accumulation), so the README's strict thresholds apply to the first-step logits; decode steps
/// run as the backend's default does (int16 activations), held to the margin rule.
@Suite("Llama decoder against the reference")
struct DecoderTests {
    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count), ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            ab += (x - ma) * (y - mb)
            aa += (x - ma) * (x - ma)
            bb += (y - mb) * (y - mb)
        }
        return ab / (aa * bb).squareRoot()
    }

    @Test func firstStepLogitsOfPromptZeroMatchTheWholeVector() async throws {
        // A prompt run is seconds of CPU work in a debug build: off the pool.
        try await onAThreadOfItsOwn("troupe-test.decoder") {
            let decoder = try await ModelFixture.decoder()
            let c = try #require(ModelFixture.promptCases.first)
            let reference = try ModelFixture.referenceLogits0()
            #expect(reference.count == 49152)
            let logits = try #require(try decoder.prefill(c.ids, reuse: false))
            let corr = Self.correlation(logits.map(Double.init), reference.map(Double.init))
            let largest = zip(logits, reference).map { abs($0 - $1) }.max() ?? .infinity
            // The README's bar is 0.999; this port (Float32 arithmetic, f16 KV cache) reaches 0.9999998.
            #expect(corr >= 0.99999, "full-vector correlation \(corr)")
            #expect(largest < 0.05, "largest |Δ| \(largest)")
        }
    }

    /// Per prompt: top-1, the 20 top values (correlation and largest difference), then greedy
    /// decoding, in the backend's default arithmetic, until the reference's margin drops to 0.5 or
    /// below (check 3).
    @Test(arguments: 0..<8)
    func promptMatchesTheReference(index: Int) async throws {
        // A prompt run and greedy decoding: off the pool.
        try await onAThreadOfItsOwn("troupe-test.decoder") {
            let cases = ModelFixture.promptCases
            try #require(cases.count == 8, "reference logits.jsonl not found")
            let c = cases[index]
            let decoder = try await ModelFixture.decoder(decode: EmbeddedBackend.Options().decodeArithmetic)
            var logits = try #require(try decoder.prefill(c.ids, reuse: false))
            let topIDs = c.top.map { Int($0[0]) }, topValues = c.top.map { $0[1] }
            #expect(LLMKernels.argmax(logits.baseAddress!, count: logits.count) == topIDs[0], "prompt \(index): top-1")
            let ours = topIDs.map { Double(logits[$0]) }
            let corr = Self.correlation(ours, topValues)
            let largest = zip(ours, topValues).map { abs($0 - $1) }.max()!
            #expect(corr >= 0.999, "prompt \(index): top-20 correlation \(corr)")
            #expect(largest < 0.05, "prompt \(index): top-20 largest |Δ| \(largest)")

            var generated: [Int32] = []
            while generated.count < 32 {
                let next = Int32(LLMKernels.argmax(logits.baseAddress!, count: logits.count))
                generated.append(next)
                if next == 2 || generated.count == 32 { break }
                logits = try decoder.decode(next)
            }
            if let k = (0..<min(generated.count, c.greedy.count)).first(where: { generated[$0] != c.greedy[$0] }) {
                #expect(c.margins[k] <= 0.5, "prompt \(index): token \(k) differs (\(generated[k]) vs \(c.greedy[k])) at reference margin \(c.margins[k])")
            } else {
                #expect(generated.count == c.greedy.count, "prompt \(index): \(generated.count) tokens, reference \(c.greedy.count)")
            }
        }
    }

    /// A prompt's logits are a function of its tokens alone: the same bit for bit run whole, after
    /// a cached prefix of it, or after a conversation that left decode steps in the cache.
    @Test func promptLogitsDoNotDependOnTheCache() async throws {
        // Three prompt runs: off the pool.
        try await onAThreadOfItsOwn("troupe-test.decoder") {
            let cases = ModelFixture.promptCases
            try #require(cases.count == 8, "reference logits.jsonl not found")
            let prompt = cases[6].ids  // 228 tokens
            let decoder = try await ModelFixture.decoder(decode: .int8)
            let fresh = Array(try #require(try decoder.prefill(prompt, reuse: false)))
            _ = try decoder.decode(Int32(LLMKernels.argmax(fresh, count: fresh.count)))
            let again = Array(try #require(try decoder.prefill(prompt, reuse: true)))  // only the last token runs
            #expect(again == fresh)
            _ = try decoder.prefill(Array(prompt[..<100]), reuse: false)
            let split = Array(try #require(try decoder.prefill(prompt, reuse: true)))  // batches 0..<100, 100..<228
            #expect(split == fresh)
            #expect(decoder.cachedTokens == prompt)
        }
    }
}
