import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// `choose(among:for:)` on the HTTP backend: a JSON schema when the server takes one, free text
/// when it refuses it or answers something else.
@Suite("OpenAI backend: choices")
struct OpenAIChoiceTests {
    static let options = ["zorblax", "quintessa"]
    static let request = ChatRequest(messages: [ChatMessage(.system, "Pick who speaks next."), ChatMessage(.user, "Who?")],
                                     sampling: SamplingOptions(maxTokens: 4, stop: SamplingOptions.promptMarkers))

    /// A whole `chat.completion` whose message is `content`.
    static func completion(_ content: String) -> [TestServer.Step] {
        let escaped = String(data: try! JSONEncoder().encode(content), encoding: .utf8)!
        return Responses.json(200, #"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":\#(escaped)},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5}}"#)
    }

    @Test func asksForAJSONSchemaAndReadsTheChoice() async throws {
        try await withServer({ _, _ in Self.completion(#"{"choice": "quintessa"}"#) }) { server in
            let choice = try await backend(server.baseURL).choose(among: Self.options, for: Self.request)
            #expect(choice.index == 1 && choice.constrained && choice.text == #"{"choice": "quintessa"}"#)
            #expect(choice.usage.promptTokens == 9 && choice.usage.completionTokens == 5)

            let body = try #require(server.requests.first?.json)
            #expect(body["stream"] as? Bool == false)
            #expect(body["stop"] == nil, "no stop string may cut the JSON")
            #expect((body["max_tokens"] as? Int ?? 0) >= 16 + "quintessa".count)
            let format = try #require(body["response_format"] as? [String: Any])
            #expect(format["type"] as? String == "json_schema")
            let schema = try #require(format["json_schema"] as? [String: Any])
            #expect(schema["name"] as? String == "choice" && schema["strict"] as? Bool == true)
            let object = try #require(schema["schema"] as? [String: Any])
            #expect(object["type"] as? String == "object")
            #expect(object["required"] as? [String] == ["choice"])
            #expect(object["additionalProperties"] as? Bool == false)
            let property = try #require((object["properties"] as? [String: Any])?["choice"] as? [String: Any])
            #expect(property["type"] as? String == "string" && property["enum"] as? [String] == Self.options)
        }
    }

    @Test(arguments: [400, 422])
    func aServerThatRefusesTheFormatIsAskedForText(status: Int) async throws {
        let refusal = Responses.json(status, #"{"error":{"message":"response_format is not supported"}}"#)
        let text = Responses.sse(Responses.chatStream(["I pick ", "Quintessa", "."]))
        try await withServer({ _, index in index == 0 ? refusal : text }) { server in
            let sleeps = SleepLog()
            let choice = try await backend(server.baseURL, sleeps: sleeps).choose(among: Self.options, for: Self.request)
            #expect(choice.index == 1 && !choice.constrained && choice.text == "I pick Quintessa.")
            #expect(server.requests.count == 2 && sleeps.recorded.isEmpty)
            let second = try #require(server.requests.last?.json)
            #expect(second["response_format"] == nil && second["stream"] as? Bool == true)
            #expect(second["stop"] as? [String] == SamplingOptions.promptMarkers)
        }
    }

    @Test func anAnswerThatIsNotTheJSONIsReadAsText() async throws {
        for (answer, index) in [("quintessa, surely", 1), (#"{"choice": "nobody"}"#, 0), ("", 0)] {
            try await withServer({ _, _ in Self.completion(answer) }) { server in
                let choice = try await backend(server.baseURL).choose(among: Self.options, for: Self.request)
                #expect(choice.index == index && !choice.constrained && choice.text == answer)
                #expect(server.requests.count == 1)
            }
        }
    }

    /// The request's own failures keep their semantics: a 503 is retried, a refused key is an error.
    @Test func failuresAreRetriedOrReportedAsForAReply() async throws {
        let unavailable = Responses.json(503, #"{"error":{"message":"loading"}}"#)
        try await withServer({ _, index in index == 0 ? unavailable : Self.completion(#"{"choice":"zorblax"}"#) }) { server in
            let sleeps = SleepLog()
            let choice = try await backend(server.baseURL, sleeps: sleeps).choose(among: Self.options, for: Self.request)
            #expect(choice.index == 0 && choice.constrained)
            #expect(server.requests.count == 2 && sleeps.recorded.count == 1)
        }
        try await withServer({ _, _ in Responses.json(401, #"{"error":{"message":"bad key"}}"#) }) { server in
            let error = await #expect(throws: TroupeError.self) {
                _ = try await backend(server.baseURL).choose(among: Self.options, for: Self.request)
            }
            #expect(error?.code == .denied && server.requests.count == 1)
        }
    }
}
