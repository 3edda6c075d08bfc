import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TroupeCore
import TroupeLLM
import TroupeRuntime
import TroupeServer
import TroupeService
import TroupeServiceTestSupport

/// `POST /v1/personas/NAME/say/stream`: a turn as server-sent events, stopped when the client
/// goes away.
@Suite("Streamed turns")
struct TurnStreamTests {
    typealias API = HTTPAPITests

    /// `event:` and `data:` of each event in `text`.
    static func events(_ text: String) -> [(name: String, data: JSONValue)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") }), let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return (String(name.dropFirst(7)), (try? JSONValue.parse(Array(data.dropFirst(6).utf8))) ?? .null)
        }
    }

    @Test func aTurnStreamsItsPiecesThenTheStoredTurn() async throws {
        try await API.withAPI { _, call in
            var request = HTTPClientRequest(url: call.base + "/v1/personas/hestia/say/stream")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"message": "Hello, who waters the plants?"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            #expect(response.status.code == 200 && response.headers.first(name: "content-type") == "text/event-stream")
            let body = String(buffer: try await response.body.collect(upTo: 4 << 20))
            let events = Self.events(body)
            #expect(events.first?.name == "recalled" && events.last?.name == "done", "\(body)")
            let pieces = events.filter { $0.name == "delta" }.compactMap { $0.data["text"]?.text }
            #expect(!pieces.isEmpty)
            let turn = try #require(events.last?.data)
            #expect(turn["turn"] == .number(1) && turn["conversation"]?.text != nil && turn["prompt"] == nil)
            // What streamed is what came of the model; the stored reply is it, tidied.
            #expect(pieces.joined().contains(turn["reply"]?.text ?? "?"), "\(pieces.joined()) vs \(turn)")

            let denied = try await call("POST", "/v1/personas/hestia/say/stream", #"{"message": ""}"#)
            #expect(denied.status == 400, "a refused turn is an ordinary JSON error, not a stream")
        }
    }

    @Test func aClientThatGoesAwayStopsTheReply() async throws {
        let backend = EndlessBackend()
        try await API.withAPI(service: { TroupeService(runtime: $0.runtime, backend: backend) }) { _, call in
            let client = Task {
                var request = HTTPClientRequest(url: call.base + "/v1/personas/hestia/say/stream")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"message": "Tell me everything."}"#))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
                var seen = ""
                for try await chunk in response.body {
                    seen += String(buffer: chunk)
                    // Leaves once the reply is flowing: the connection closes with the request.
                    if seen.components(separatedBy: "event: delta").count > 20 { return }
                }
            }
            try await client.value
            // The backend is let go of, long before the reply's end: the turn was cancelled.
            var stops = backend.stopped.makeAsyncIterator()
            let produced = try #require(await stops.next())
            #expect(produced < EndlessBackend.limit, "the reply ran to its end: nobody cancelled it")
        }
    }
}

/// A model that would talk for a long time: a word at a time, until its reply is cancelled or
/// its consumer goes; then it says how many words it gave.
final class EndlessBackend: ChatBackend, Sendable {
    static let limit = 200_000
    let stopped: AsyncStream<Int>
    private let stop: AsyncStream<Int>.Continuation

    init() { (stopped, stop) = AsyncStream.makeStream() }

    var description: BackendDescription { BackendDescription(kind: "endless", model: "endless", location: "-", contextLength: 8192) }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> { stream(request, cancellation: ReplyCancellation()) }

    func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        let stop = stop
        return AsyncThrowingStream { continuation in
            let task = Task {
                var words = 0
                while words < Self.limit, !cancellation.isCancelled, !Task.isCancelled {
                    continuation.yield(.delta("la "))
                    words += 1
                    // Paced like a model; what is measured is whether it is stopped, not when.
                    try? await Task.sleep(for: .milliseconds(1))
                }
                continuation.yield(.finished(words < Self.limit ? .cancelled : .length, ChatUsage(completionTokens: words)))
                continuation.finish()
                stop.yield(words)
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func countTokens(_ messages: [ChatMessage]) async throws -> Int { messages.reduce(0) { $0 + $1.content.count / 4 } }
}
