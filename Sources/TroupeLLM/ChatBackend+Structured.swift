import Foundation
import TroupeCore

/// A reply asked for as JSON of a schema (``ChatBackend/completeJSON(_:schema:name:)``).
public struct StructuredReply: Sendable, Hashable {
    /// What the model answered, as it came: JSON of the schema when ``constrained``; whatever the
    /// model wrote otherwise. The caller checks it either way: a server may ignore the format.
    public var text: String
    /// Whether the backend asked the server to constrain the answer to the schema (and it did
    /// not refuse). `false`: the model was only asked, in its prompt.
    public var constrained: Bool
    public var usage: ChatUsage

    public init(text: String, constrained: Bool, usage: ChatUsage) {
        (self.text, self.constrained, self.usage) = (text, constrained, usage)
    }

    /// The first JSON object in the text (a server may wrap it in a code fence or prose); `nil`
    /// when there is none.
    public var object: [String: JSONValue]? {
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close,
            case .object(let object) = try? JSONValue.parse(Array(text[open...close].utf8))
        else { return nil }
        return object
    }
}

extension ChatBackend {
    /// Completes `request` as text, unconstrained: the backend has no way to hold a model to a
    /// schema, so the request's own messages must ask for the JSON.
    public func completeJSON(_ request: ChatRequest, schema: JSONValue, name: String) async throws -> StructuredReply {
        let reply = try await complete(request)
        try Task.checkCancellation()
        return StructuredReply(text: reply.text, constrained: false, usage: reply.usage)
    }
}
