import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// `choose(among:for:)`: reading options in text, the default (free text), the offline backend
/// and the embedded model's constrained decoding.
@Suite("Choosing among options")
struct ChoiceTests {
    /// A backend that answers every request with `text`, for the default implementation.
    struct Fixed: ChatBackend {
        var text: String
        var description: BackendDescription { BackendDescription(kind: "fixed", model: "-", location: "-", contextLength: 100) }
        func countTokens(_ messages: [ChatMessage]) async throws -> Int { 0 }
        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            AsyncThrowingStream { continuation in
                continuation.yield(.delta(text))
                continuation.yield(.finished(.stop, ChatUsage(promptTokens: 3, completionTokens: 2)))
                continuation.finish()
            }
        }
    }

    static let speakers = ["Athena", "Ben", "Ann Lee"]

    static func asking(_ text: String) -> ChatRequest {
        ChatRequest(messages: [ChatMessage(.system, "Pick who speaks next."), ChatMessage(.user, text)])
    }

    @Test func optionsAreNamedAsWholeWordsInAnyCase() {
        #expect(OptionNames.first(in: "I think BEN, then athena.", among: Self.speakers) == 1)
        #expect(OptionNames.last(in: "I think BEN, then athena.", among: Self.speakers) == 0)
        #expect(OptionNames.first(in: "Benjamin and Athenaeum", among: Self.speakers) == nil)
        #expect(OptionNames.first(in: "ann lee, surely", among: ["Ann", "Ann Lee"]) == 1, "the longer of two at one place")
        #expect(OptionNames.first(in: "(Ben)", among: Self.speakers) == 1)
        #expect(OptionNames.last(in: "nobody", among: Self.speakers) == nil)
    }

    @Test func theDefaultReadsFreeTextAndIsNeverConstrained() async throws {
        var choice = try await Fixed(text: "Next: ann lee, then Ben.").choose(among: Self.speakers, for: Self.asking("?"))
        #expect(choice == ChatChoice(index: 2, text: "Next: ann lee, then Ben.", constrained: false,
                                     usage: ChatUsage(promptTokens: 3, completionTokens: 2)))
        choice = try await Fixed(text: "I cannot say.").choose(among: Self.speakers, for: Self.asking("?"))
        #expect(choice.index == 0 && !choice.constrained)
        await #expect(throws: TroupeError.self) { _ = try await Fixed(text: "x").choose(among: [], for: Self.asking("?")) }
    }

    @Test func offlinePicksTheOptionTheLastUserMessageNamesLast() async throws {
        let offline = OfflineBackend()
        var request = Self.asking("Ben spoke; now over to Athena")
        request.messages.append(ChatMessage(.assistant, "Ann Lee"))
        let choice = try await offline.choose(among: Self.speakers, for: request)
        #expect(choice.index == 0 && choice.text == "Athena" && choice.constrained)
        #expect(try await offline.choose(among: Self.speakers, for: request) == choice)
        let none = try await offline.choose(among: Self.speakers, for: Self.asking("whoever"))
        #expect(none.index == 0 && none.constrained)
    }

    /// Options the model would never write unasked still come out whole: the answer is one of them.
    @Test func embeddedAlwaysAnswersAnOption() async throws {
        let backend = try await BackendTests.backend()
        let odd = ["zorblax", "quintessa"]
        for question in ["Who speaks next?", "What is the capital of France?", "Write a long poem about the sea."] {
            let choice = try await backend.choose(among: odd, for: Self.asking(question))
            #expect(choice.constrained)
            #expect(odd.indices.contains(choice.index))
            #expect(choice.text.trimmingCharacters(in: .whitespaces) == odd[choice.index])
            #expect(choice.usage.promptTokens > 10 && choice.usage.completionTokens > 0)
            let again = try await backend.choose(among: odd, for: Self.asking(question))
            #expect(again.index == choice.index && again.text == choice.text, "deterministic")
        }
        let capital = try await backend.choose(among: ["Berlin", "Paris", "Madrid"], for: Self.asking("What is the capital of France?"))
        #expect(capital.index == 1, "\(capital.text)")
        let one = try await backend.choose(among: ["only"], for: Self.asking("?"))
        #expect(one.index == 0 && one.constrained)
    }

    /// The walk over the option paths, on the real tokenizer and synthetic logits.
    @Test func theTrieFollowsTheLogitsAndEndsWhereTheModelWould() async throws {
        let m = try await ModelFixture.model()
        let trie = ChoiceTrie(options: ["Ann", "Ann Lee", "Bob"], tokenizer: m.tokenizer)
        let end = m.template.end
        var logits = [Float](repeating: -10, count: m.tokenizer.count)
        let ann = try #require(m.tokenizer.encode(plain: "Ann").first), bob = try #require(m.tokenizer.encode(plain: " Bob").first)
        logits[Int(bob)] = 1
        logits[Int(ann)] = 2
        let first = logits.withUnsafeMutableBufferPointer { trie.step(at: 0, logits: $0, endTokens: [end]) }
        guard case .token(let token, let next)? = first else { Issue.record("no step: \(String(describing: first))"); return }
        #expect(token == ann)
        // After "Ann": ending (option 0) against going on to " Lee"; the end token decides.
        logits[Int(end)] = 5
        #expect(logits.withUnsafeMutableBufferPointer { trie.step(at: next, logits: $0, endTokens: [end]) } == .end(0))
        logits[Int(end)] = -20
        let on = logits.withUnsafeMutableBufferPointer { trie.step(at: next, logits: $0, endTokens: [end]) }
        if case .token(_, let leaf)? = on { #expect(trie.isLeaf(leaf) && trie.nodes[leaf].option == 1) } else { Issue.record("\(String(describing: on))") }
    }

    /// A choice waiting behind a long reply answers its cancelled caller at once.
    @Test func aCancelledChoiceEndsAtOnce() async throws {
        let backend = try await BackendTests.backend()
        let long = backend.stream(ChatRequest(messages: [ChatMessage(.user, "Tell me a very long story.")],
                                              sampling: SamplingOptions(temperature: 0.8, maxTokens: 400, seed: 1)))
        let waiting = Task { try await backend.choose(among: ["a", "b"], for: Self.asking("?")) }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        _ = long  // dropping the stream cancels the long reply
    }
}
