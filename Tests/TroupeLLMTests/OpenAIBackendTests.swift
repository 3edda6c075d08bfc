import Foundation
import Testing
@testable import TroupeLLM

/// The HTTP backend against a real server on loopback, when the server behaves.
@Suite("OpenAI backend: replies")
struct OpenAIBackendTests {
    @Test func streamedReplyWithUsageAndDone() async throws {
        try await withServer({ _, _ in Responses.sse(Responses.chatStream(["Hel", "lo", ", wörld"], promptTokens: 17)) }) { server in
            var request = hello
            request.sampling = SamplingOptions(temperature: 0.2, topP: 0.9, topK: 30, repetitionPenalty: 1.2, maxTokens: 64,
                                               stop: ["\nUser:"], seed: 0x1_0000_0005)
            let result = await collect(backend(server.baseURL).stream(request))

            #expect(result.error == nil)
            #expect(result.pieces == ["Hel", "lo", ", wörld"])
            #expect(result.finish == .stop)
            #expect(result.usage?.promptTokens == 17)
            #expect(result.usage?.completionTokens == 3)
            #expect(result.usage?.timeToFirstToken != nil)

            let sent = try #require(server.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.path == "/v1/chat/completions")
            #expect(sent.headers["authorization"] == "Bearer sk-test-SECRET-1234")
            #expect(sent.headers["accept"] == "text/event-stream")
            let body = try #require(sent.json)
            #expect(body["model"] as? String == "m")
            #expect(body["stream"] as? Bool == true)
            #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            #expect(body["temperature"] as? Double == 0.2)
            #expect(body["top_p"] as? Double == 0.9)
            #expect(body["max_tokens"] as? Int == 64)
            #expect(body["stop"] as? [String] == ["\nUser:"])
            #expect(body["seed"] as? Int == 5, "seeds are sent in 31 bits")
            #expect(body["top_k"] as? Int == 30)
            #expect(body["repeat_penalty"] as? Double == 1.2)
            let messages = try #require(body["messages"] as? [[String: String]])
            #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello."]])
        }
    }

    /// The same reply whatever the cut: every byte its own read, odd sizes, CRLF line ends and
    /// keep-alive comments between events.
    @Test(arguments: [1, 2, 7, 33, 1000])
    func eventsSplitAnywhereGiveTheSameReply(pieceSize: Int) async throws {
        var stream = ": keep-alive\r\n\r\n" + Responses.chatStream(["Ein", " ", "Satz", " 🎭"], lineEnd: "\r\n")
        stream = stream.replacingOccurrences(of: "data: [DONE]", with: ":ping\r\n\r\ndata: [DONE]")
        let body = stream
        try await withServer({ _, _ in Responses.sse(body, pieceSize: pieceSize) }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.error == nil)
            #expect(result.text == "Ein Satz 🎭")
            #expect(result.finish == .stop)
        }
    }

    @Test func lengthFinishReason() async throws {
        try await withServer({ _, _ in Responses.sse(Responses.chatStream(["a", "b"], finish: "length")) }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.text == "ab")
            #expect(result.finish == .length)
        }
    }

    @Test func nothingAfterDoneIsRead() async throws {
        // A server that sends [DONE] and keeps the stream open: the reply still ends.
        try await withServer({ _, _ in
            [Responses.sseHead, Responses.chunk(Array("data: \(Responses.contentChunk("x"))\n\ndata: [DONE]\n\n".utf8)),
             .waitForClientToClose]
        }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.error == nil)
            #expect(result.text == "x")
            #expect(result.finish == .stop)
            #expect(await server.eventually { $0.clientCloses == 1 })
        }
    }

    @Test func plainReply() async throws {
        try await withServer({ _, _ in
            Responses.json(200, #"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3}}"#)
        }) { server in
            let reply = try await backend(server.baseURL, streaming: false).complete(hello)
            #expect(reply.text == "Hi there.")
            #expect(reply.finishReason == .stop)
            #expect(reply.usage.promptTokens == 9)
            #expect(reply.usage.completionTokens == 3)
            let body = try #require(server.requests.first?.json)
            #expect(body["stream"] as? Bool == false)
            #expect(body["stream_options"] == nil)
        }
    }

    @Test func aServerIgnoringStreamGivesItsWholeReply() async throws {
        try await withServer({ _, _ in
            Responses.json(200, #"{"choices":[{"message":{"content":"all at once"},"finish_reason":"length"}]}"#)
        }) { server in
            let result = await collect(backend(server.baseURL, streaming: true).stream(hello))
            #expect(result.pieces == ["all at once"])
            #expect(result.finish == .length)
        }
    }

    @Test func strictServersGetOnlyStandardFields() async throws {
        try await withServer({ _, _ in Responses.sse(Responses.chatStream(["ok"])) }) { server in
            var configuration = backend(server.baseURL).configuration
            configuration.extendedSampling = false
            _ = try await OpenAIBackend(configuration, environment: [:]).complete(hello)
            let body = try #require(server.requests.first?.json)
            #expect(body["top_k"] == nil)
            #expect(body["repeat_penalty"] == nil)
            #expect(body["seed"] == nil)
            #expect(server.requests.first?.headers["authorization"] == nil, "no key in the environment, no header")
        }
    }

    @Test func withoutAModelTheServersFirstIsUsed() async throws {
        try await withServer({ request, _ in
            request.path == "/v1/models" ? Responses.models(["served-model", "other"]) : Responses.sse(Responses.chatStream(["ok"]))
        }) { server in
            let backend = backend(server.baseURL + "/", model: nil)
            _ = try await backend.complete(hello)
            _ = try await backend.complete(hello)
            #expect(server.requests.map(\.path) == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"],
                    "the list is asked once; a trailing / in the base URL is dropped")
            #expect(server.requests.last?.json?["model"] as? String == "served-model")
        }
    }

    @Test func listModelsAndProbe() async throws {
        try await withServer({ request, _ in
            request.path == "/v1/models" ? Responses.models(["a", "b"]) : Responses.json(500, "{}")
        }) { server in
            let listed = try await backend(server.baseURL).listModels()
            let probed = try await backend(server.baseURL).probe(timeout: .seconds(30))
            #expect(listed == ["a", "b"])
            #expect(probed == ["a", "b"])
            #expect(server.requests.allSatisfy { $0.method == "GET" && $0.path == "/v1/models" })
        }
    }

    @Test func tokensAreEstimatedOrAskedOfTheTokenizer() async throws {
        let messages = [ChatMessage(.user, String(repeating: "a", count: 30))]
        #expect(try await backend("http://127.0.0.1:1/v1").countTokens(messages) == 3 + 4 + 10)
        try await withServer({ request, _ in Responses.json(200, #"{"tokens":[1,2,3,4,5]}"#) }) { server in
            let counted = try await backend(server.baseURL, tokenizeURL: "http://127.0.0.1:\(server.port)/tokenize").countTokens(messages)
            #expect(counted == 5 + 4 + 3)
            let sent = try #require(server.requests.first)
            #expect(sent.path == "/tokenize")
            #expect(sent.json?["content"] as? String == String(repeating: "a", count: 30))
        }
    }

    /// With a request in flight (its `Authorization` header inside the HTTP client), neither
    /// printing nor dumping the backend shows the key.
    @Test func theKeyIsInNoDescription() async throws {
        try await withServer({ _, _ in [.waitForClientToClose] }) { server in
            let backend = backend(server.baseURL)
            let consumer = Task { await collect(backend.stream(hello)) }
            #expect(await server.eventually { $0.requests.count == 1 })
            var dumped = ""
            dump(backend, to: &dumped)
            for text in [String(describing: backend), String(reflecting: backend), dumped, "\(backend.description)"] {
                #expect(!text.contains("SECRET"), "\(text)")
            }
            #expect(dumped.contains("TEST_KEY"), "the variable's name is shown")
            #expect(backend.connection.apiKey?.value == "sk-test-SECRET-1234")
            consumer.cancel()
            _ = await consumer.value
        }
    }
}
