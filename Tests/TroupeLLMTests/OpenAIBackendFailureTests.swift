import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

/// The HTTP backend against a server that misbehaves on purpose: each failure is told as what
/// happened, retried only before the first token, and never shows the key.
@Suite("OpenAI backend: failures")
struct OpenAIBackendFailureTests {
    @Test func refusedKeyNamesTheVariableNotTheKey() async throws {
        try await withServer({ _, _ in Responses.json(401, #"{"error":{"message":"Incorrect API key provided: sk-test-SECRET-1234"}}"#) }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            let error = try #require(result.error as? TroupeError)
            #expect(error.code == .denied)
            #expect(error.description == "401: the key in $TEST_KEY was refused")
            #expect(server.requests.count == 1, "a refused key is not retried")
        }
    }

    @Test func missingKeySaysWhichVariableIsUnset() async throws {
        try await withServer({ _, _ in Responses.json(401, "{}") }) { server in
            let result = await collect(backend(server.baseURL, key: nil).stream(hello))
            #expect(result.errorText == "401: the server wants an API key, and $TEST_KEY is not set")
        }
    }

    @Test func unknownModelListsTheServersModels() async throws {
        try await withServer({ request, _ in
            request.path == "/v1/models"
                ? Responses.models(["llama3.2:latest", "qwen2.5:0.5b"])
                : Responses.json(404, #"{"error":{"message":"model \"x\" not found, try pulling it first"}}"#)
        }) { server in
            let result = await collect(backend(server.baseURL, model: "x").stream(hello))
            let error = try #require(result.error as? TroupeError)
            #expect(error.code == .notFound)
            #expect(error.description == "model 'x' not found on the server (it has: llama3.2:latest, qwen2.5:0.5b)")
            #expect(server.requests.map(\.path) == ["/v1/chat/completions", "/v1/models"])
        }
    }

    @Test func aWrongBaseURLIsSuspectedOn404() async throws {
        try await withServer({ _, _ in Responses.json(404, "not here") }) { server in
            let result = await collect(backend(server.baseURL, model: "m").stream(hello))
            #expect(result.errorText.hasPrefix("404 from \(server.baseURL)/chat/completions (is \(server.baseURL) the API's base URL?"))
        }
    }

    @Test func rateLimitHonoursRetryAfterThenSucceeds() async throws {
        try await withServer({ _, index in
            index < 2 ? Responses.json(429, #"{"error":{"message":"slow down"}}"#, headers: ["Retry-After": "7"])
                : Responses.sse(Responses.chatStream(["fine"]))
        }) { server in
            let sleeps = SleepLog()
            let result = await collect(backend(server.baseURL, sleeps: sleeps).stream(hello))
            #expect(result.error == nil)
            #expect(result.text == "fine")
            #expect(server.requests.count == 3)
            #expect(sleeps.recorded.count == 2)
            #expect(sleeps.recorded.allSatisfy { $0 >= .seconds(7) }, "\(sleeps.recorded)")
        }
    }

    @Test func retryAfterLongerThanTheLimitIsAnError() async throws {
        try await withServer({ _, _ in Responses.json(429, "{}", headers: ["Retry-After": "3600"]) }) { server in
            let sleeps = SleepLog()
            let result = await collect(backend(server.baseURL, sleeps: sleeps).stream(hello))
            #expect(result.errorText == "429: \(server.baseURL) is limiting the rate of requests; it asks to retry after 60 min, longer than the 30 s Troupe waits")
            #expect(sleeps.recorded.isEmpty)
        }
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        try await withServer({ _, index in
            switch index {
            case 0: Responses.json(500, #"{"error":{"message":"busy"}}"#)
            case 1: Responses.json(503, "{}")
            default: Responses.sse(Responses.chatStream(["third", " time"]))
            }
        }) { server in
            let sleeps = SleepLog()
            let result = await collect(backend(server.baseURL, sleeps: sleeps).stream(hello))
            #expect(result.text == "third time")
            #expect(server.requests.count == 3)
            // Equal jitter: the n-th wait lies in [base·2ⁿ⁻¹/2, base·2ⁿ⁻¹].
            #expect(sleeps.recorded.count == 2)
            #expect(sleeps.recorded.first.map { $0 >= .milliseconds(250) && $0 <= .milliseconds(500) } == true)
            #expect(sleeps.recorded.last.map { $0 >= .milliseconds(500) && $0 <= .milliseconds(1000) } == true)
        }
    }

    @Test func serverErrorsGiveUpAfterTheLastAttempt() async throws {
        try await withServer({ _, _ in Responses.json(500, #"{"error":{"message":"out of memory"}}"#) }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.errorText == "500 from \(server.baseURL)/chat/completions: out of memory (tried 3 times)")
            #expect(server.requests.count == 3)
        }
    }

    @Test func nothingListeningIsConnectionRefused() async throws {
        let refusing = try TestServer.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let sleeps = SleepLog()
        let result = await collect(backend("http://127.0.0.1:\(port)/v1", sleeps: sleeps).stream(hello))
        let error = try #require(result.error as? TroupeError)
        #expect(error.code == .unavailable)
        #expect(error.description == "cannot reach http://127.0.0.1:\(port)/v1: connection refused (tried 3 times)")
        #expect(sleeps.recorded.count == 2)
        await #expect(throws: TroupeError.self) { try await backend("http://127.0.0.1:\(port)/v1").probe(timeout: .seconds(30)) }
    }

    @Test func connectTimeoutSaysSoAndIsRetried() async throws {
        let listener = try FullListener()
        let url = "http://127.0.0.1:\(listener.port)/v1"
        let sleeps = SleepLog()
        let result = await collect(backend(url, connect: .seconds(1), attempts: 2, sleeps: sleeps).stream(hello))
        #expect(result.errorText == "cannot reach \(url): no connection within 1 s (the connect timeout) (tried 2 times)")
        #expect(sleeps.recorded.count == 1)
        withExtendedLifetime(listener) {}
    }

    @Test func slowFirstTokenTimesOutAndIsNotRetried() async throws {
        try await withServer({ _, _ in [Responses.sseHead, Responses.chunk(Array(": still loading\n\n".utf8)), .waitForClientToClose] }) { server in
            let result = await collect(backend(server.baseURL, firstToken: .milliseconds(1500)).stream(hello))
            #expect(result.errorText == "no first token from \(server.baseURL) within 1.5 s (the first-token timeout)")
            #expect(result.pieces.isEmpty)
            #expect(server.requests.count == 1)
            #expect(await server.eventually { $0.clientCloses == 1 }, "the timeout closes the connection")
        }
    }

    @Test func stalledStreamTimesOutAfterThePartialReply() async throws {
        try await withServer({ _, _ in
            [Responses.sseHead, Responses.chunk(Array("data: \(Responses.contentChunk("Half"))\n\n".utf8)), .waitForClientToClose]
        }) { server in
            let result = await collect(backend(server.baseURL, idle: .seconds(1)).stream(hello))
            #expect(result.text == "Half")
            #expect(result.errorText == "the stream from \(server.baseURL) stalled after 1 pieces of the reply: nothing for 1 s (the idle timeout)")
            #expect(server.requests.count == 1)
        }
    }

    @Test func droppedConnectionAfterTokensEndsWithAnErrorAndNoRetry() async throws {
        try await withServer({ _, _ in
            // Two tokens, then the connection closes inside a chunked body: a cut, not an end.
            [Responses.sseHead, Responses.chunk(Array("data: \(Responses.contentChunk("Hel"))\n\ndata: \(Responses.contentChunk("lo"))\n\n".utf8)),
             .pause(.milliseconds(50))]
        }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.pieces == ["Hel", "lo"])
            #expect(result.finish == nil)
            #expect(result.errorText.hasPrefix("the connection to \(server.baseURL) broke after 2 pieces of the reply, before it ended"))
            #expect(server.requests.count == 1)
        }
    }

    @Test func streamThatEndsWithoutFinishingIsCutShort() async throws {
        try await withServer({ _, _ in Responses.sse("data: \(Responses.contentChunk("only"))\n\n") }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.text == "only")
            #expect(result.errorText == "the stream from \(server.baseURL)/chat/completions ended after 1 pieces of the reply, before the reply did")
        }
    }

    @Test func cancellingTheConsumerClosesTheConnection() async throws {
        try await withServer({ _, _ in
            var steps = [Responses.sseHead]
            for piece in ["one ", "two ", "three "] {
                steps.append(Responses.chunk(Array("data: \(Responses.contentChunk(piece))\n\n".utf8)))
            }
            return steps + [.waitForClientToClose]
        }) { server in
            var seen: [String] = []
            for try await event in backend(server.baseURL).stream(hello) {
                if case .delta(let piece) = event { seen.append(piece) }
                if seen.count == 2 { break }
            }
            #expect(seen == ["one ", "two "])
            #expect(await server.eventually { $0.clientCloses == 1 }, "the server saw the client hang up")
        }
    }

    @Test func cancellingTheConsumingTaskClosesTheConnection() async throws {
        try await withServer({ _, _ in
            [Responses.sseHead, Responses.chunk(Array("data: \(Responses.contentChunk("first"))\n\n".utf8)), .waitForClientToClose]
        }) { server in
            let backend = backend(server.baseURL)
            let consumer = Task { await collect(backend.stream(hello)) }
            #expect(await server.eventually { $0.requests.count == 1 })
            consumer.cancel()
            let result = await consumer.value
            #expect(result.finish == nil, "a cancelled reply does not pretend to have finished")
            #expect(await server.eventually { $0.clientCloses == 1 }, "the server saw the client hang up")
        }
    }

    @Test func malformedEventSaysWhatWasWrongNotWhatItHeld() async throws {
        try await withServer({ _, _ in
            Responses.sse("data: \(Responses.contentChunk("fine"))\n\ndata: {\"choices\": \"private words\"}\n\n")
        }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.text == "fine")
            #expect(result.errorText == "malformed stream from \(server.baseURL)/chat/completions: event 2 is not a chat-completion chunk: choices: expected Array<Any>")
            #expect(!result.errorText.contains("private"))
        }
    }

    @Test func malformedWholeReplySaysSo() async throws {
        try await withServer({ _, _ in Responses.json(200, "<html>proxy login</html>") }) { server in
            let result = await collect(backend(server.baseURL, streaming: false).stream(hello))
            #expect(result.errorText == "malformed reply from \(server.baseURL)/chat/completions: the reply is not a chat completion: not JSON")
            #expect(server.requests.count == 1)
        }
    }

    @Test func errorEventInTheStreamEndsIt() async throws {
        try await withServer({ _, _ in Responses.sse("data: {\"error\":{\"message\":\"the model crashed\"}}\n\n") }) { server in
            let result = await collect(backend(server.baseURL).stream(hello))
            #expect(result.errorText == "\(server.baseURL)/chat/completions reported an error: the model crashed")
        }
    }

    @Test func overlongLineNamesTheLimit() async throws {
        try await withServer({ _, _ in Responses.sse("data: " + String(repeating: "x", count: 5000) + "\n\n") }) { server in
            var configuration = backend(server.baseURL).configuration
            configuration.sseLimits = SSEParser.Limits(maxLineBytes: 1024, maxEventBytes: 4096)
            let result = await collect(OpenAIBackend(configuration, environment: [:]).stream(hello))
            #expect(result.errorText == "malformed stream from \(server.baseURL)/chat/completions: a server-sent event line is longer than 1024 bytes (the limit)")
        }
    }

    @Test func aBaseURLThatIsNotHTTPIsAConfigError() async throws {
        let result = await collect(backend("localhost:11434").stream(hello))
        #expect((result.error as? TroupeError)?.code == .invalidConfig)
        #expect(result.errorText == "the chat server's base URL 'localhost:11434' is not an http:// or https:// URL")
    }
}
