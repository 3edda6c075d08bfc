import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TroupeCore

extension OpenAIConnection {
    /// One try: the request and its reply, under the watchdog's two timeouts. Throws an
    /// ``AttemptFailure`` for what went wrong on the server's side or the wire;
    /// `CancellationError` (or AsyncHTTPClient's cancellation) when the caller went away.
    func attemptOnce(
        body: Data, shape: ReplyShape, model: String?, request: ChatRequest, progress: StreamProgress, started: ContinuousClock.Instant,
        into continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    ) async throws {
        let watchdog = StreamWatchdog(firstTokenTimeout: configuration.firstTokenTimeout, idleTimeout: configuration.idleTimeout)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watchdog.run() }
                group.addTask {
                    try await self.exchange(body: body, shape: shape, model: model, request: request, watchdog: watchdog,
                                            progress: progress, started: started, into: continuation)
                }
                // The first child to end decides: the exchange finishing, or the watchdog
                // throwing. Leaving the group cancels the other, and with it the connection.
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let expired as StreamWatchdog.Expired {
            throw timeoutFailure(expired, pieces: progress.pieces)
        }
    }

    private func exchange(
        body: Data, shape: ReplyShape, model: String?, request: ChatRequest, watchdog: StreamWatchdog, progress: StreamProgress,
        started: ContinuousClock.Instant, into continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    ) async throws {
        var http = HTTPClientRequest(url: base + "/chat/completions")
        http.method = .POST
        addHeaders(to: &http, streaming: shape.streaming)
        http.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            // The watchdog bounds the time; the deadline here only has to be later than it.
            response = try await client.execute(http, deadline: .distantFuture)
        } catch {
            try Task.checkCancellation()
            throw transportFailure(error, receiving: false, deadline: nil)
        }
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            throw await failure(for: response, body: text, model: model)
        }

        var decoder = ChatStreamDecoder()
        // The stop strings are enforced here too: a server may ignore them, or stop after one.
        var text = ReplyText(stop: shape.stop)
        func pass(_ piece: String) {
            watchdog.firstToken()
            let certain = text.append(piece.utf8)
            guard !certain.isEmpty else { return }
            _ = progress.yielded()
            continuation.yield(.delta(certain))
        }
        // A server (or a proxy) that ignores `stream: true` answers with one JSON reply: read it as one.
        let json = response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/json") ?? false
        if shape.streaming && !json {
            var parser = SSEParser(limits: configuration.sseLimits)
            do {
                reading: for try await buffer in response.body {
                    watchdog.sawBytes()
                    for event in try parser.feed(buffer.readableBytesView) {
                        if let piece = try decoder.handle(event) { pass(piece) }
                        // Whatever follows `[DONE]` (or a stop string) is not read: a server that
                        // lingers after it must not hold the reply open.
                        if decoder.done || text.stopped { break reading }
                    }
                }
            } catch let error as TroupeError {
                throw AttemptFailure(error: TroupeError(.unavailable, "malformed stream from \(base)/chat/completions: \(error.message)"),
                                     retryable: false)
            } catch let reported as ChatStreamDecoder.ServerReported {
                throw AttemptFailure(error: reported.error(from: base), retryable: false)
            } catch {
                try Task.checkCancellation()
                throw transportFailure(error, receiving: true, pieces: progress.pieces, deadline: nil)
            }
            _ = parser.finish()
            guard decoder.isComplete || text.stopped else {
                throw cutShort(pieces: progress.pieces)
            }
        } else {
            let whole: ByteBuffer
            let limit = configuration.sseLimits.maxEventBytes
            do {
                whole = try await response.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw AttemptFailure(error: TroupeError(.unavailable, "the reply from \(base)/chat/completions is longer than \(limit) bytes (the limit)"),
                                     retryable: false)
            } catch {
                try Task.checkCancellation()
                throw transportFailure(error, receiving: true, pieces: 0, deadline: nil)
            }
            do {
                decoder.whole = true
                if let piece = try decoder.handle(SSEEvent(data: String(decoding: whole.readableBytesView, as: UTF8.self))) { pass(piece) }
            } catch let error as TroupeError {
                throw AttemptFailure(error: TroupeError(.unavailable, "malformed reply from \(base)/chat/completions: \(error.message)"),
                                     retryable: false)
            } catch let reported as ChatStreamDecoder.ServerReported {
                throw AttemptFailure(error: reported.error(from: base), retryable: false)
            }
        }

        let rest = text.finish()
        if !rest.isEmpty {
            _ = progress.yielded()
            continuation.yield(.delta(rest))
        }
        let finished = ContinuousClock.now
        let usage = ChatUsage(
            promptTokens: decoder.promptTokens ?? OpenAIBackend.estimateTokens(request.messages),
            completionTokens: decoder.completionTokens ?? progress.pieces,
            timeToFirstToken: progress.firstTokenAt.map { $0 - started },
            total: finished - started)
        continuation.yield(.finished(text.stopped ? .stop : decoder.finishReason ?? .stop, usage))
    }

    /// A reply whose stream ended (cleanly, at the HTTP level) before a finish reason or `[DONE]`.
    func cutShort(pieces: Int) -> AttemptFailure {
        if pieces == 0 {
            return AttemptFailure(error: TroupeError(.unavailable, "\(base)/chat/completions ended the stream before the reply began"),
                                  retryable: true)
        }
        let message = "the stream from \(base)/chat/completions ended after \(pieces) pieces of the reply, before the reply did"
        return AttemptFailure(error: TroupeError(.unavailable, message), retryable: false)
    }
}
