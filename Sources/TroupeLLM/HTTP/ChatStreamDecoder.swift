import Foundation
import TroupeCore

/// Turns the server-sent events of a streamed chat completion into text deltas, and remembers
/// how the reply ended (`finish_reason`, the usage chunk, `[DONE]`). Pure: no I/O, no clock.
///
/// What it accepts: `data: {chunk}` events (`choices[0].delta.content`), a final chunk with
/// empty `choices` and a `usage` (sent because the request asks `stream_options.include_usage`),
/// `data: [DONE]`, and events with no text (the first, role-only chunk; `reasoning_content`,
/// which is not part of the reply). An `{"error": …}` event or an `event: error` ends the
/// stream with the server's message (``ServerReported``). Malformed data is a ``TroupeError``
/// that says what was wrong with it, never what it contained.
struct ChatStreamDecoder {
    private(set) var finishReason: FinishReason?
    private(set) var promptTokens: Int?
    private(set) var completionTokens: Int?
    /// `[DONE]` came: nothing after it is read.
    private(set) var done = false
    private(set) var events = 0
    /// The data is a whole reply (`stream: false`), not a stream's event: errors say so.
    var whole = false

    /// Whether the reply ended as a complete reply ends (a finish reason or `[DONE]`), as
    /// opposed to a stream that was cut.
    var isComplete: Bool { done || finishReason != nil }

    /// The text `event` adds to the reply (often none).
    mutating func handle(_ event: SSEEvent) throws -> String? {
        guard !done else { return nil }
        events += 1
        let data = event.data.trimmingCharacters(in: .whitespaces)
        if data == "[DONE]" {
            done = true
            return nil
        }
        if event.type == "ping" || data.isEmpty { return nil }
        let chunk: OpenAIWire.Completion
        do {
            chunk = try JSONDecoder().decode(OpenAIWire.Completion.self, from: Data(data.utf8))
        } catch {
            let what = whole ? "the reply is not a chat completion" : "event \(events) is not a chat-completion chunk"
            throw TroupeError(.unavailable, "\(what): \(Self.explain(error))")
        }
        if let error = chunk.error {
            throw ServerReported(message: error.message)
        }
        if event.type == "error" {
            throw ServerReported(message: nil)
        }
        if let usage = chunk.usage {
            promptTokens = usage.promptTokens ?? promptTokens
            completionTokens = usage.completionTokens ?? completionTokens
        }
        var text: String?
        for choice in chunk.choices ?? [] {
            if let piece = choice.delta?.content ?? choice.message?.content, !piece.isEmpty {
                text = (text ?? "") + piece
            }
            if let reason = choice.finishReason {
                finishReason = Self.finishReason(reason)
            }
        }
        return text
    }

    /// The server said, inside the stream, that the reply failed.
    struct ServerReported: Error {
        var message: String?

        func error(from base: String) -> TroupeError {
            TroupeError(.unavailable, "\(base)/chat/completions reported an error: \(ChatStreamDecoder.clip(message ?? "(no message)"))")
        }
    }

    /// `length` (and vLLM's `max_tokens`) is the token limit; every other reason — `stop`,
    /// `eos`, `tool_calls`, `content_filter` — means the model ended its turn.
    static func finishReason(_ wire: String) -> FinishReason {
        switch wire {
        case "length", "max_tokens": .length
        default: .stop
        }
    }

    /// A decoding error as a path and a kind (`choices[0].delta.content: expected String`),
    /// without the text it choked on.
    static func explain(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "the top level" : text)
        }
        switch error as? DecodingError {
        case .typeMismatch(let type, let context)?: return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context)?: return "\(path(context)): expected \(type), found null"
        case .keyNotFound(let key, let context)?: return "\(path(context)): missing '\(key.stringValue)'"
        case .dataCorrupted(let context)?: return context.codingPath.isEmpty ? "not JSON" : "\(path(context)): corrupted"
        default: return "not JSON"
        }
    }

    /// A server's own message, cut to a line: error texts can echo a prompt back.
    static func clip(_ text: String, to limit: Int = 200) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }
}
