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
        body: Data, model: String?, request: ChatRequest, progress: StreamProgress, started: ContinuousClock.Instant,
        into continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    ) async throws {
        let watchdog = StreamWatchdog(firstTokenTimeout: configuration.firstTokenTimeout, idleTimeout: configuration.idleTimeout)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watchdog.run() }
                group.addTask {
                    try await self.exchange(body: body, model: model, request: request, watchdog: watchdog,
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
        body: Data, model: String?, request: ChatRequest, watchdog: StreamWatchdog, progress: StreamProgress,
        started: ContinuousClock.Instant, into continuation: AsyncThrowingStream<ChatEvent, any Error>.Continuation
    ) async throws {
        var http = HTTPClientRequest(url: base + "/chat/completions")
        http.method = .POST
        addHeaders(to: &http, streaming: configuration.streaming)
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
        // A server (or a proxy) that ignores `stream: true` answers with one JSON reply: read it as one.
        let json = response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/json") ?? false
        if configuration.streaming && !json {
            var parser = SSEParser(limits: configuration.sseLimits)
            do {
                reading: for try await buffer in response.body {
                    watchdog.sawBytes()
                    for event in try parser.feed(buffer.readableBytesView) {
                        if let text = try decoder.handle(event) {
                            if progress.yielded() { watchdog.firstToken() }
                            continuation.yield(.delta(text))
                        }
                        // Whatever follows `[DONE]` is not read: a server that lingers after it
                        // must not hold the reply open.
                        if decoder.done { break reading }
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
            guard decoder.isComplete else {
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
                if let text = try decoder.handle(SSEEvent(data: String(decoding: whole.readableBytesView, as: UTF8.self))) {
                    _ = progress.yielded()
                    watchdog.firstToken()
                    continuation.yield(.delta(text))
                }
            } catch let error as TroupeError {
                throw AttemptFailure(error: TroupeError(.unavailable, "malformed reply from \(base)/chat/completions: \(error.message)"),
                                     retryable: false)
            } catch let reported as ChatStreamDecoder.ServerReported {
                throw AttemptFailure(error: reported.error(from: base), retryable: false)
            }
        }

        let finished = ContinuousClock.now
        let usage = ChatUsage(
            promptTokens: decoder.promptTokens ?? OpenAIBackend.estimateTokens(request.messages),
            completionTokens: decoder.completionTokens ?? progress.pieces,
            timeToFirstToken: progress.firstTokenAt.map { $0 - started },
            total: finished - started)
        continuation.yield(.finished(decoder.finishReason ?? .stop, usage))
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
