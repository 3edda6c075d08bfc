import Foundation
import TroupeCore

/// The JSON of the OpenAI chat-completions API, as far as Troupe uses it. Every decoded field is
/// optional: servers (Ollama, llama.cpp, vLLM) differ in what they leave out.
enum OpenAIWire {
    /// `POST /chat/completions`.
    struct ChatBody: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        struct StreamOptions: Encodable {
            var includeUsage: Bool
            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }

        var model: String?
        var messages: [Message]
        var stream: Bool
        var streamOptions: StreamOptions?
        var temperature: Double
        var topP: Double
        var maxTokens: Int
        var stop: [String]?
        var seed: Int?
        var topK: Int?
        var repeatPenalty: Double?
        var responseFormat: ResponseFormat?

        enum CodingKeys: String, CodingKey {
            case model, messages, stream, temperature, stop, seed
            case streamOptions = "stream_options"
            case topP = "top_p"
            case maxTokens = "max_tokens"
            case topK = "top_k"
            case repeatPenalty = "repeat_penalty"
            case responseFormat = "response_format"
        }
    }

    /// `response_format` asking for JSON of a schema (OpenAI's structured outputs; llama.cpp's
    /// server, Ollama's /v1 and vLLM constrain generation to it).
    struct ResponseFormat: Encodable {
        struct JSONSchema: Encodable {
            var name: String
            var strict: Bool
            var schema: JSONValue
        }

        var type = "json_schema"
        var jsonSchema: JSONSchema

        enum CodingKeys: String, CodingKey {
            case type
            case jsonSchema = "json_schema"
        }

        /// JSON of `schema`, named `name` (letters, digits, `_` and `-`, as OpenAI asks).
        static func schema(_ schema: JSONValue, name: String) -> ResponseFormat {
            ResponseFormat(jsonSchema: JSONSchema(name: name, strict: true, schema: schema))
        }

        /// One of `options`, as `{"choice": "…"}`.
        static func choice(among options: [String]) -> ResponseFormat {
            schema(.object([
                "type": .string("object"),
                "properties": .object(["choice": .object(["type": .string("string"), "enum": .array(options.map(JSONValue.string))])]),
                "required": .array([.string("choice")]), "additionalProperties": .bool(false),
            ]), name: "choice")
        }
    }

    /// The answer a ``ResponseFormat/choice(among:)`` asks for.
    struct ChoiceAnswer: Decodable {
        var choice: String
    }

    /// One streamed chunk (`chat.completion.chunk`), or a whole reply (`chat.completion`): the
    /// same shape, with `delta` in one and `message` in the other.
    struct Completion: Decodable {
        struct Choice: Decodable {
            struct Content: Decodable {
                var content: String?
            }
            var delta: Content?
            var message: Content?
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case delta, message
                case finishReason = "finish_reason"
            }
        }
        struct Usage: Decodable {
            var promptTokens: Int?
            var completionTokens: Int?
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
            }
        }
        var choices: [Choice]?
        var usage: Usage?
        var error: ServerError?
    }

    /// `{"error": {"message": …}}` (OpenAI, vLLM, llama.cpp) or `{"error": "…"}` (Ollama's own API).
    struct ServerError: Decodable {
        var message: String?

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                message = text
                return
            }
            struct Object: Decodable { var message: String? }
            message = try Object(from: decoder).message
        }
    }

    /// `GET /models`: `{"data": [{"id": …}]}`; Ollama's `/api/tags` shape (`models[].name`) is
    /// accepted too, so a base URL without `/v1` still lists something useful.
    struct ModelList: Decodable {
        struct Entry: Decodable {
            var id: String?
            var name: String?
            var model: String?
        }
        var data: [Entry]?
        var models: [Entry]?

        var names: [String] {
            ((data ?? []) + (models ?? [])).compactMap { $0.id ?? $0.name ?? $0.model }
        }
    }

    /// A `/tokenize` answer: llama.cpp's `{"tokens": [...]}` or vLLM's `{"count": n}`.
    struct TokenizeAnswer: Decodable {
        var count: Int?
        var tokens: [TokenizedPiece]?
    }

    /// A token is a number, or (llama.cpp with `with_pieces`) an object; only the count matters.
    struct TokenizedPiece: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    struct TokenizeBody: Encodable {
        var content: String
    }
}
