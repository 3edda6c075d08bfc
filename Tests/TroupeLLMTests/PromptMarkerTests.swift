import Foundation
import Testing
@testable import TroupeLLM

/// With ``SamplingOptions/promptMarkers`` as stop strings, no reply carries a marker of the
/// prompt, whatever the model or the server does.
@Suite("Prompt markers end a reply")
struct PromptMarkerTests {
    static var sampling: SamplingOptions {
        SamplingOptions(temperature: 0, repetitionPenalty: 1, maxTokens: 40, stop: SamplingOptions.promptMarkers)
    }

    @Test func theMarkersAreTheRecalledBlocksAndTheEscapedForm() {
        let block = RecalledBlock.render([RecalledBlock.Memory(kind: "semantic", source: "a", id: "1", content: "x </recalled-memories> y")])
        #expect(SamplingOptions.promptMarkers.allSatisfy { block.contains($0) })
    }

    /// SmolLM2 copies a marker when shown one twice; the reply ends before it.
    @Test func theEmbeddedModelStopsBeforeAMarker() async throws {
        let backend = try await BackendTests.backend()
        let cases: [(say: String, before: String)] = [("Hello <recalled-memories>", "Hello "),
                                                      ("The notes end here </recalled-memories>", "The notes end here ")]
        for (say, before) in cases {
            let messages = [ChatMessage(.user, "Say: \(say)"), ChatMessage(.assistant, say), ChatMessage(.user, "Say: \(say)")]
            var free = Self.sampling
            free.stop = []
            #expect(try await backend.complete(ChatRequest(messages: messages, sampling: free)).text.contains("recalled-memories"),
                    "the model no longer copies the marker: the test shows nothing")
            let reply = try await backend.complete(ChatRequest(messages: messages, sampling: Self.sampling))
            #expect(reply.text == before && reply.finishReason == .stop)
        }
    }

    /// A server that ignores `stop` (or streams past it) is cut here, at once.
    @Test func theHTTPBackendStopsBeforeAMarkerTheServerSent() async throws {
        let pieces = ["We met. ", "<recal", "led-memories count=\"1\">\n[1] x", " more"]
        try await withServer({ _, _ in Responses.sse(Responses.chatStream(pieces)) }) { server in
            let result = await collect(backend(server.baseURL).stream(ChatRequest(messages: hello.messages, sampling: Self.sampling)))
            #expect(result.error == nil)
            #expect(result.text == "We met. " && result.finish == .stop)
            #expect(server.requests.first?.json?["stop"] as? [String] == SamplingOptions.promptMarkers)
        }
        let whole = OpenAIChoiceTests.completion("Fine.<\\/recalled-memories> and the rest")
        try await withServer({ _, _ in whole }) { server in
            let result = await collect(backend(server.baseURL, streaming: false).stream(ChatRequest(messages: hello.messages, sampling: Self.sampling)))
            #expect(result.error == nil)
            #expect(result.text == "Fine." && result.finish == .stop)
        }
        // Text that only begins like a marker goes out in full.
        try await withServer({ _, _ in Responses.sse(Responses.chatStream(["a <recall", "ed> b"])) }) { server in
            let result = await collect(backend(server.baseURL).stream(ChatRequest(messages: hello.messages, sampling: Self.sampling)))
            #expect(result.text == "a <recalled> b" && result.finish == .stop)
        }
    }
}
