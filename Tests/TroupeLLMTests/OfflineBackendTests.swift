import Testing
@testable import TroupeLLM

@Suite("Offline backend")
struct OfflineBackendTests {
    static let request = ChatRequest(messages: [
        ChatMessage(.system, "You are Hestia.\n" + RecalledBlock.render([
            RecalledBlock.Memory(kind: "semantic", source: "hestia", id: "s1", content: "Secrets never go in config files."),
            RecalledBlock.Memory(kind: "episodic", source: "incident-log", id: "e9", content: "The March outage was DNS.\nIt took 3 hours."),
        ])),
        ChatMessage(.user, "What do you remember?"),
    ])

    @Test func saysThereIsNoModelHowToGetOneAndWhatWasRecalled() async throws {
        let reply = try await OfflineBackend(reason: "ollama: cannot reach http://127.0.0.1:11434/v1: connection refused").complete(Self.request)
        #expect(reply.text.hasPrefix("(No chat model is available, so this is not a real reply.) ollama: cannot reach"))
        #expect(reply.text.contains("run Scripts/setup"))
        #expect(reply.text.contains("TROUPE_LLM_URL"))
        #expect(reply.text.contains("llm.base_url"))
        #expect(reply.text.hasSuffix("""
            What I recalled for this message:
            1. [semantic, hestia] Secrets never go in config files.
            2. [episodic, incident-log] The March outage was DNS.
               It took 3 hours.
            """))
        #expect(reply.finishReason == .stop)
        #expect(reply.usage.completionTokens > 10)
    }

    @Test func isDeterministicAndStreamsInPieces() async throws {
        let backend = OfflineBackend()
        let first = await collect(backend.stream(Self.request))
        let second = await collect(backend.stream(Self.request))
        #expect(first.pieces == second.pieces)
        #expect(first.pieces.count > 20)
        #expect(first.text == backend.reply(to: Self.request.messages))
        #expect(first.finish == .stop)
    }

    @Test func saysWhenNothingWasRecalled() {
        let backend = OfflineBackend()
        #expect(backend.reply(to: [ChatMessage(.user, "hi")]).hasSuffix("No recalled memories came with this message."))
        let empty = [ChatMessage(.system, RecalledBlock.render([])), ChatMessage(.user, "hi")]
        #expect(backend.reply(to: empty).hasSuffix("I recalled nothing for this message."))
    }

    @Test func stopsWhenTheConsumerDoes() async throws {
        var pieces = 0
        for try await event in OfflineBackend().stream(Self.request) {
            if case .delta = event { pieces += 1 }
            if pieces == 3 { break }
        }
        #expect(pieces == 3)
    }

    @Test func maxTokensEndsTheReply() async throws {
        var request = Self.request
        request.sampling.maxTokens = 5
        let cut = await collect(OfflineBackend().stream(request))
        #expect(cut.pieces.count == 5 && cut.finish == .length && cut.usage?.completionTokens == 5)
        #expect(OfflineBackend().reply(to: request.messages).hasPrefix(cut.text))
        request.sampling.maxTokens = 0
        let none = await collect(OfflineBackend().stream(request))
        #expect(none.text.isEmpty && none.finish == .length)
        request.sampling.maxTokens = 10_000
        let whole = await collect(OfflineBackend().stream(request))
        #expect(whole.finish == .stop && whole.text == OfflineBackend().reply(to: request.messages))
    }

    /// A session whose memories are its earlier replies, each quoting the memories before it:
    /// the replies stay the same size round after round (the issue saw 94 tokens grow to 146,731
    /// by round 24), even with no `maxTokens` to stop them.
    @Test func repliesDoNotGrowWhenMemoriesQuoteEarlierReplies() async throws {
        let backend = OfflineBackend()
        var replies: [String] = []
        var sizes: [Int] = []
        for round in 0..<24 {
            let memories = replies.suffix(8).enumerated().map {
                RecalledBlock.Memory(kind: "episodic", source: "athena", id: "e\($0.offset)", content: "athena said: " + $0.element)
            }
            let request = ChatRequest(messages: [ChatMessage(.system, RecalledBlock.render(memories)), ChatMessage(.user, "Round \(round).")],
                                      sampling: SamplingOptions(maxTokens: 1_000_000))
            let reply = try await backend.complete(request)
            replies.append(reply.text)
            sizes.append(reply.usage.completionTokens)
        }
        #expect(sizes.max()! == sizes.last!, "the size settles once eight memories are recalled")
        #expect(sizes.max()! < 200, "\(sizes)")
        #expect(replies.last!.contains("athena said: (a reply given without a model)"))
        let long = String(repeating: "word ", count: 100)
        #expect(OfflineBackend.quote(long).count == OfflineBackend.quoteLimit + 2)
    }
}
