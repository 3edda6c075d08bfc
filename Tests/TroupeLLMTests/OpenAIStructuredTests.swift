import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// `completeJSON(_:schema:name:)`: the HTTP backend sends the caller's schema as a
/// `response_format` and says the answer was constrained; a server that refuses the format is
/// asked for text; a backend without a server only asks (unconstrained).
@Suite("OpenAI backend: JSON of a schema")
struct OpenAIStructuredTests {
    static let schema: JSONValue = .object([
        "type": .string("object"),
        "properties": .object([
            "facts": .object(["type": .string("array"), "maxItems": .number(3), "items": .object([
                "type": .string("object"), "properties": .object(["value": .object(["type": .string("string")])]),
                "required": .array([.string("value")]), "additionalProperties": .bool(false),
            ])]),
        ]),
        "required": .array([.string("facts")]), "additionalProperties": .bool(false),
    ])
    static let request = ChatRequest(messages: [ChatMessage(.system, "Label the facts."), ChatMessage(.user, "1. The freeze starts on 3 March.")],
                                     sampling: SamplingOptions(maxTokens: 80, stop: SamplingOptions.promptMarkers))

    @Test func sendsTheSchemaAsTheResponseFormat() async throws {
        let answer = #"{"facts": [{"value": "3 March"}]}"#
        try await withServer({ _, _ in OpenAIChoiceTests.completion(answer) }) { server in
            let reply = try await backend(server.baseURL).completeJSON(Self.request, schema: Self.schema, name: "facts")
            #expect(reply.constrained && reply.text == answer)
            #expect(reply.object?["facts"] == .array([.object(["value": .string("3 March")])]))

            let body = try #require(server.requests.first?.json)
            #expect(body["stream"] as? Bool == false && body["stop"] == nil)
            let format = try #require(body["response_format"] as? [String: Any])
            let schema = try #require(format["json_schema"] as? [String: Any])
            #expect(format["type"] as? String == "json_schema" && schema["name"] as? String == "facts" && schema["strict"] as? Bool == true)
            // The schema goes as given, numbers as JSON numbers (llama.cpp turns it into a grammar).
            let sent = try JSONValue.parse(Array(try JSONSerialization.data(withJSONObject: schema["schema"] as Any)))
            #expect(sent == Self.schema)
            let facts = try #require(((schema["schema"] as? [String: Any])?["properties"] as? [String: Any])?["facts"] as? [String: Any])
            #expect(facts["maxItems"] as? Int == 3)
        }
    }

    @Test(arguments: [400, 422])
    func aServerThatRefusesTheFormatIsAskedForText(status: Int) async throws {
        let refusal = Responses.json(status, #"{"error":{"message":"response_format is not supported"}}"#)
        let text = Responses.sse(Responses.chatStream([#"Sure: {"facts": "#, #"[]}"#]))
        try await withServer({ _, index in index == 0 ? refusal : text }) { server in
            let reply = try await backend(server.baseURL).completeJSON(Self.request, schema: Self.schema, name: "facts")
            #expect(!reply.constrained && reply.text == #"Sure: {"facts": []}"#)
            #expect(reply.object?["facts"] == .array([]))
            let second = try #require(server.requests.last?.json)
            #expect(server.requests.count == 2 && second["response_format"] == nil)
            #expect(second["stop"] as? [String] == SamplingOptions.promptMarkers)
        }
    }

    @Test func aBackendWithoutAServerOnlyAsks() async throws {
        let reply = try await OfflineBackend().completeJSON(Self.request, schema: Self.schema, name: "facts")
        #expect(!reply.constrained)
        #expect(StructuredReply(text: "no JSON here", constrained: false, usage: ChatUsage()).object == nil)
        #expect(StructuredReply(text: "```json\n{\"a\": 1}\n```", constrained: false, usage: ChatUsage()).object == ["a": .number(1)])
    }
}
