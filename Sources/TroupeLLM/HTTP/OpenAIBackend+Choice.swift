import Foundation
import TroupeCore

extension OpenAIBackend {
    /// Asks for `{"choice": "…"}` with a JSON schema whose `enum` is `options`
    /// (`response_format: {"type": "json_schema", …, "strict": true}`), not streamed: llama.cpp's
    /// server, Ollama's /v1 and vLLM then constrain generation to it. A server that refuses the
    /// format (400, 422) is asked again for plain text, and an answer that is not such JSON is read
    /// as text; both unconstrained (see ``ChatChoice/constrained``). Other failures are the
    /// request's own, retried as a reply's are.
    public func choose(among options: [String], for request: ChatRequest) async throws -> ChatChoice {
        try ChatChoice.check(options)
        var asked = request
        // Room for the JSON around the longest option, and no stop string that could cut it.
        asked.sampling.maxTokens = max(request.sampling.maxTokens, 16 + (options.map(\.utf8.count).max() ?? 0))
        asked.sampling.stop = []
        let reply: ChatReply
        do {
            reply = try await complete(asked, format: .choice(among: options))
        } catch is FormatRefused {
            let reply = try await complete(request, format: nil)
            return ChatChoice.reading(reply.text, among: options, usage: reply.usage)
        }
        if let chosen = Self.chosen(in: reply.text), let index = options.firstIndex(of: chosen) {
            return ChatChoice(index: index, text: reply.text, constrained: true, usage: reply.usage)
        }
        return ChatChoice.reading(reply.text, among: options, usage: reply.usage)
    }

    /// Asks for JSON of `schema` (`response_format: {"type": "json_schema", …, "strict": true}`),
    /// not streamed; a server that refuses the format (400, 422) is asked again for plain text,
    /// unconstrained. The request's own stop strings are dropped: they could cut the JSON.
    public func completeJSON(_ request: ChatRequest, schema: JSONValue, name: String) async throws -> StructuredReply {
        var asked = request
        asked.sampling.stop = []
        do {
            let reply = try await complete(asked, format: .schema(schema, name: name))
            return StructuredReply(text: reply.text, constrained: true, usage: reply.usage)
        } catch is FormatRefused {
            let reply = try await complete(request, format: nil)
            return StructuredReply(text: reply.text, constrained: false, usage: reply.usage)
        }
    }

    /// The whole reply to `request`, in the calling task (its cancellation closes the connection).
    private func complete(_ request: ChatRequest, format: OpenAIWire.ResponseFormat?) async throws -> ChatReply {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ChatEvent.self, throwing: (any Error).self)
        try await connection.run(request, format: format, into: continuation)
        continuation.finish()
        var text = ""
        var end: (reason: FinishReason, usage: ChatUsage)?
        for try await event in events {
            switch event {
            case .delta(let piece): text += piece
            case .finished(let reason, let usage): end = (reason, usage)
            }
        }
        return ChatReply(text: text, finishReason: end?.reason ?? .stop, usage: end?.usage ?? ChatUsage())
    }

    /// The `choice` of a `{"choice": "…"}` answer (a server may wrap it in a code fence or
    /// whitespace); nil for anything else.
    static func chosen(in text: String) -> String? {
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else { return nil }
        return try? JSONDecoder().decode(OpenAIWire.ChoiceAnswer.self, from: Data(text[open...close].utf8)).choice
    }
}
