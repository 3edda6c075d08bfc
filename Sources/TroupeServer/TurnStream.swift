import Hummingbird
import NIOCore
import TroupeCore
import TroupeRuntime
import TroupeService

/// A chat turn as server-sent events (`POST /v1/personas/NAME/say/stream`):
///
/// ```
/// event: recalled   data: {"memories": [{"id", "score"}, …]}   before the model starts
/// event: delta      data: {"text": "…"}                         each piece of the reply
/// event: done       data: the turn, as `say` answers it          stored; the stream ends
/// event: error      data: {"error": {"code", "message"}}         the turn failed; the stream ends
/// ```
///
/// A client that goes away stops the reply: the first write that fails (or the request's task
/// being cancelled) cancels the turn, which stores what came, marked partial.
enum TurnStream {
    static func response(_ handle: TurnHandle) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await withTaskCancellationHandler {
                    var events = handle.events.makeAsyncIterator()
                    while true {
                        let frame: String
                        do {
                            guard let event = try await events.next() else { break }
                            frame = Self.frame(event)
                        } catch {
                            let failure = TroupeService.failure(error)
                            try await writer.write(ByteBuffer(string: Self.frame("error", .object(["error": .object([
                                "code": .string(failure.entry.name), "message": .string(failure.message),
                            ])]))))
                            break
                        }
                        do { try await writer.write(ByteBuffer(string: frame)) } catch {
                            handle.cancel()  // the client went away
                            throw error
                        }
                    }
                } onCancel: {
                    handle.cancel()
                }
                try await writer.finish(nil)
            })
    }

    static func frame(_ event: TurnEvent) -> String {
        switch event {
        case .recalled(let hits):
            frame("recalled", .object(["memories": .array(hits.map { .object(["id": .string($0.record.id), "score": .number($0.score)]) })]))
        case .delta(let text): frame("delta", .object(["text": .string(text)]))
        case .done(let record): frame("done", TroupeService.turn(record))
        }
    }

    /// One event: its name and its data on one line (JSON's canonical text has no line breaks).
    static func frame(_ name: String, _ data: JSONValue) -> String { "event: \(name)\ndata: \(data.canonicalText)\n\n" }
}
