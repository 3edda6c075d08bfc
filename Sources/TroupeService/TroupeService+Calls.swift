import Foundation
import TroupeCore
import TroupeRuntime

extension TroupeService {
    /// Runs `operation` with arguments by name, checked against its schema first, and answers
    /// with the CLI's `--json` shape: what MCP tools and HTTP routes call.
    ///
    /// Throws ``ArgumentError`` (naming the argument) before anything runs, or the operation's
    /// ``TroupeError``.
    public func call(_ operation: Operation, _ arguments: [String: JSONValue]?, _ context: RequestContext) async throws -> JSONValue {
        let input = try Arguments(arguments, schema: operation.schema)
        switch operation {
        case .listPersonas:
            return .object(["personas": .array(try await personas(context).map(JSONView.persona))])
        case .recall:
            let slices = input.strings("slices").map { $0.compactMap { SliceKind(name: $0) } }  // the schema's enum: only slice names
            let hits = try await recall(
                persona: try input.required("persona"), query: try input.required("query"), slices: slices, limit: input.int("limit"), context)
            let why = input.bool("why") ?? false
            return .object(["results": .array(hits.map { why ? JSONView.hit($0) : Self.withoutComponents(JSONView.hit($0)) })])
        case .remember:
            let target: MemoryTarget
            switch (input.string("slice").flatMap { SliceKind(name: $0) }, input.string("shared")) {
            case (let slice?, nil): target = .slice(slice)
            case (nil, let shared?): target = .shared(shared)
            case (nil, nil): throw ArgumentError(field: "slice", "give either slice or shared")
            case (_?, _?): throw ArgumentError(field: "shared", "give either slice or shared, not both")
            }
            let record = try await remember(
                persona: try input.required("persona"), content: try input.required("content"), in: target,
                importance: input.double("importance") ?? 0.5, tags: input.strings("tags") ?? [], context)
            return JSONView.record(record)
        case .update:
            let change = MemoryChange(content: input.string("content"), importance: input.double("importance"), tags: input.strings("tags"))
            guard change.content != nil || change.importance != nil || change.tags != nil else {
                throw ArgumentError(field: "content", "nothing to change: give content, importance or tags")
            }
            guard let base = input.int("base_version") else { throw ArgumentError(field: "base_version", "is required") }
            return JSONView.outcome(try await update(
                persona: try input.required("persona"), id: try input.required("id"), basedOn: base, change: change, context))
        case .forget:
            let id = try input.required("id")
            return JSONView.receipt(try await forget(id: id, persona: try input.required("persona"), reason: input.string("reason"), context))
        case .history:
            let id = try input.required("id")
            return JSONView.history(id, try await history(id: id, persona: try input.required("persona"), context))
        case .say:
            let turn = try await say(
                persona: try input.required("persona"), message: try input.required("message"), conversation: input.string("conversation"), context)
            return Self.turn(turn)
        case .runSession:
            return try await runSession(named: try input.required("name"), text: try input.required("session"), context).json
        }
    }

    /// A turn as `troupe chat --json` gives it, without the prompt as sent (the caller has the
    /// conversation; the prompt is large and holds the persona's instructions).
    public static func turn(_ turn: TurnRecord) -> JSONValue {
        guard case .object(var object) = JSONView.turn(turn) else { return JSONView.turn(turn) }
        object["prompt"] = nil
        return .object(object)
    }

    static func withoutComponents(_ hit: JSONValue) -> JSONValue {
        guard case .object(var object) = hit else { return hit }
        object["components"] = nil
        return .object(object)
    }

    /// What a front end says of a failed call: the error table's entry, the message, and the
    /// argument at fault if one is.
    public struct Failure: Sendable {
        public var entry: ErrorTable.Entry
        public var message: String
        public var field: String?

        /// One line: the message, after the code's name unless it names the argument
        /// (`denied: …`, `invalid argument 'limit': …`), as MCP tool errors read.
        public var text: String { field != nil ? message : "\(entry.name): \(message)" }
    }

    public static func failure(_ error: any Error) -> Failure {
        switch error {
        case let error as ArgumentError: Failure(entry: ErrorTable.entry(.invalidInput), message: error.description, field: error.field ?? "")
        case let error as TroupeError: Failure(entry: ErrorTable.entry(error.code), message: error.description)
        case let error as RateLimitedError: Failure(entry: ErrorTable.entry(.rateLimited), message: error.description)
        default: Failure(entry: ErrorTable.entry(for: error), message: "\(error)")
        }
    }
}
