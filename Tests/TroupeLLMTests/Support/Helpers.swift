import Foundation
import NIOConcurrencyHelpers
@testable import TroupeLLM

/// Everything a stream yielded, and how it ended.
struct Collected: Sendable {
    var pieces: [String] = []
    var finish: FinishReason?
    var usage: ChatUsage?
    var error: (any Error)?

    var text: String { pieces.joined() }
    var errorText: String { error.map { String(describing: $0) } ?? "" }
}

func collect(_ stream: AsyncThrowingStream<ChatEvent, any Error>) async -> Collected {
    var collected = Collected()
    do {
        for try await event in stream {
            switch event {
            case .delta(let piece): collected.pieces.append(piece)
            case .finished(let reason, let usage):
                collected.finish = reason
                collected.usage = usage
            }
        }
    } catch {
        collected.error = error
    }
    return collected
}

/// The waits a backend asked for between retries, taken at once so that no test waits.
final class SleepLog: Sendable {
    private let waits = NIOLockedValueBox<[Duration]>([])
    var recorded: [Duration] { waits.withLockedValue { $0 } }

    var sleep: @Sendable (Duration) async throws -> Void {
        { [waits] duration in waits.withLockedValue { $0.append(duration) } }
    }
}

/// A backend on `server` with generous timeouts (no test relies on being fast), retries that
/// do not wait, and `TEST_KEY` as its key.
func backend(
    _ baseURL: String, model: String? = "m", streaming: Bool = true, firstToken: Duration = .seconds(60),
    idle: Duration = .seconds(60), connect: Duration = .seconds(10), attempts: Int = 3, sleeps: SleepLog = SleepLog(), tokenizeURL: String? = nil,
    key: String? = "sk-test-SECRET-1234"
) -> OpenAIBackend {
    let configuration = OpenAIBackend.Configuration(
        baseURL: baseURL, model: model, apiKeyEnv: "TEST_KEY", connectTimeout: connect, firstTokenTimeout: firstToken,
        idleTimeout: idle, streaming: streaming, retry: RetryPolicy(maxAttempts: attempts), tokenizeURL: tokenizeURL)
    return OpenAIBackend(configuration, environment: key.map { ["TEST_KEY": $0] } ?? [:], sleep: sleeps.sleep)
}

let hello = ChatRequest(messages: [ChatMessage(.system, "Be brief."), ChatMessage(.user, "Say hello.")])

/// Runs `body` with a server answering by `handler`, and stops the server after, however
/// `body` ends.
func withServer<T>(_ handler: @escaping TestServer.Handler, _ body: (TestServer) async throws -> T) async throws -> T {
    let server = try await TestServer.start(handler)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
