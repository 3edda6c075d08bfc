import Hummingbird
import NIOCore
import ServiceLifecycle
import TroupeCore
import TroupeRuntime
import TroupeService

/// `GET /v1/events`: memory events as server-sent events, as they happen, for as long as the
/// client stays (`event: written|superseded|disputed|forgotten|conflict-resolved`, `data:` the
/// event as JSON, never a memory's content). A comment line every `heartbeat` keeps idle
/// connections open and finds clients that went away; the server's graceful shutdown ends it.
enum EventStream {
    static let heartbeat: Duration = .seconds(15)

    /// What the stream writes: an event, or a heartbeat.
    enum Frame: Sendable {
        case event(MemoryEvent)
        case heartbeat
    }

    static func response(_ events: AsyncStream<MemoryEvent>) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                let (frames, continuation) = AsyncStream.makeStream(of: Frame.self)
                let forward = Task {
                    for await event in events { continuation.yield(.event(event)) }
                    continuation.finish()
                }
                let beat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: heartbeat)
                        continuation.yield(.heartbeat)
                    }
                }
                defer {
                    forward.cancel()
                    beat.cancel()
                }
                // An opening comment: the client knows it is subscribed.
                try await writer.write(ByteBuffer(string: ": subscribed\n\n"))
                // The server's graceful shutdown ends the stream (it would go on for ever).
                try await withGracefulShutdownHandler {
                    for await frame in frames {
                        switch frame {
                        case .event(let event): try await writer.write(ByteBuffer(string: "event: \(event.kind.rawValue)\ndata: \(event.json.canonicalText)\n\n"))
                        case .heartbeat: try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                try await writer.finish(nil)
            })
    }
}
