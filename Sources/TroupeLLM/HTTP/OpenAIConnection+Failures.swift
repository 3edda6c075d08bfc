import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TroupeCore

/// What went wrong, said the way a user can act on: which server, which timeout, which
/// variable's key. No message carries the key, the prompt or the reply.
extension OpenAIConnection {
    /// An error from the client or the socket. `receiving`: the response had begun; `pieces`:
    /// how much of the reply the caller already has (then nothing is retried).
    func transportFailure(_ error: any Error, receiving: Bool, pieces: Int = 0, deadline: Duration?) -> AttemptFailure {
        let retryable = pieces == 0
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout:
                return AttemptFailure(error: TroupeError(
                    .unavailable, "cannot reach \(base): no connection within \(configuration.connectTimeout.spoken) (the connect timeout)"),
                    retryable: true)
            case .deadlineExceeded:
                let timeout = deadline.map { " within \($0.spoken)" } ?? ""
                return AttemptFailure(error: TroupeError(.unavailable, "\(base) did not answer\(timeout)"), retryable: false)
            case .remoteConnectionClosed where receiving:
                return dropped(pieces: pieces)
            case .remoteConnectionClosed:
                return AttemptFailure(error: TroupeError(.unavailable, "cannot reach \(base): the server closed the connection"),
                                      retryable: true)
            case .tlsHandshakeTimeout:
                return AttemptFailure(error: TroupeError(.unavailable, "cannot reach \(base): the TLS handshake timed out"),
                                      retryable: true)
            default:
                break
            }
        }
        if let reason = Self.socketReason(error) {
            if receiving { return dropped(pieces: pieces, reason: reason) }
            return AttemptFailure(error: TroupeError(.unavailable, "cannot reach \(base): \(reason)"), retryable: retryable)
        }
        if receiving { return dropped(pieces: pieces, reason: String(describing: error)) }
        return AttemptFailure(error: TroupeError(.unavailable, "cannot reach \(base)", cause: error), retryable: false)
    }

    private func dropped(pieces: Int, reason: String = "the server closed it") -> AttemptFailure {
        if pieces == 0 {
            return AttemptFailure(error: TroupeError(.unavailable, "the connection to \(base) broke before the reply began: \(reason)"),
                                  retryable: true)
        }
        return AttemptFailure(error: TroupeError(
            .unavailable, "the connection to \(base) broke after \(pieces) pieces of the reply, before it ended: \(reason)"),
            retryable: false)
    }

    /// `connection refused`, `host not found` and the like, from NIO's errors; `nil` for others.
    static func socketReason(_ error: any Error) -> String? {
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "host '\(connection.host)' not found" }
            return connection.connectionErrors.lazy.compactMap { socketReason($0.error) }.first ?? "could not connect"
        }
        if case ChannelError.connectTimeout? = error as? ChannelError { return "the connection timed out" }
        if let channel = error as? ChannelError, channel == .ioOnClosedChannel || channel == .eof {
            return "the server closed the connection"
        }
        guard let io = error as? IOError else { return nil }
        switch io.errnoCode {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by the server"
        case EPIPE: return "the server closed the connection"
        case ETIMEDOUT: return "the connection timed out"
        case ENETUNREACH: return "network unreachable"
        case EHOSTUNREACH: return "host unreachable"
        default: return String(cString: strerror(io.errnoCode)).lowercased()
        }
    }

    func timeoutFailure(_ expired: StreamWatchdog.Expired, pieces: Int) -> AttemptFailure {
        switch expired.phase {
        case .firstToken:
            return AttemptFailure(error: TroupeError(
                .unavailable, "no first token from \(base) within \(expired.timeout.spoken) (the first-token timeout)"), retryable: false)
        case .idle:
            let message = "the stream from \(base) stalled after \(pieces) pieces of the reply: "
                + "nothing for \(expired.timeout.spoken) (the idle timeout)"
            return AttemptFailure(error: TroupeError(.unavailable, message), retryable: false)
        }
    }

    /// A non-200 answer to the chat request. A 404 asks `GET /models`, to say which models there are.
    func failure(for response: HTTPClientResponse, body: ByteBuffer, model: String?) async -> AttemptFailure {
        if response.status == .notFound, let model {
            if let models = try? await listModels(timeout: configuration.connectTimeout + .seconds(5)), !models.contains(model) {
                let list = models.isEmpty ? "none" : models.joined(separator: ", ")
                return AttemptFailure(error: TroupeError(.notFound, "model '\(model)' not found on the server (it has: \(list))"),
                                      retryable: false)
            }
        }
        return statusFailure(response.status, headers: response.headers, body: body, model: model, path: "/chat/completions")
    }

    func statusFailure(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, model: String?, path: String) -> AttemptFailure {
        let url = path.hasPrefix("http") ? path : base + path
        let said = Self.serverMessage(body).map { ": \($0)" } ?? ""
        switch status.code {
        case 401, 403:
            return AttemptFailure(error: TroupeError(.denied, "\(status.code): \(keyAdvice(refused: status.code == 401))"), retryable: false)
        case 404:
            return AttemptFailure(error: TroupeError(
                .notFound, "404 from \(url)\(said) (is \(base) the API's base URL? It usually ends in /v1)"), retryable: false)
        case 429:
            let after = RetryPolicy.parseRetryAfter(headers.first(name: "Retry-After"), now: Date())
            return AttemptFailure(error: TroupeError(.unavailable, "429: \(base) is limiting the rate of requests\(said)"),
                                  retryable: true, retryAfter: after)
        case 500...599:
            let after = RetryPolicy.parseRetryAfter(headers.first(name: "Retry-After"), now: Date())
            return AttemptFailure(error: TroupeError(.unavailable, "\(status.code) from \(url)\(said)"), retryable: true, retryAfter: after)
        case 400, 413, 422:
            return AttemptFailure(error: TroupeError(.invalidInput, "\(status.code) from \(url)\(said)"), retryable: false,
                                  status: Int(status.code))
        default:
            return AttemptFailure(error: TroupeError(.unavailable, "\(status.code) from \(url)\(said)"), retryable: false)
        }
    }

    /// What to do about a refused request: it names the variable, never the key.
    private func keyAdvice(refused: Bool) -> String {
        if let apiKey {
            return refused ? "the key in $\(apiKey.variable) was refused" : "the key in $\(apiKey.variable) may not use this model or endpoint"
        }
        if let variable = configuration.apiKeyEnv {
            return "the server wants an API key, and $\(variable) is not set"
        }
        return "the server wants an API key: set llm.api_key_env to the name of the variable that holds it"
    }

    /// The server's own explanation (`error.message`, `detail`, `message`), cut to a line.
    static func serverMessage(_ body: ByteBuffer) -> String? {
        guard body.readableBytes > 0 else { return nil }
        let data = Data(body.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var text: String?
        switch object["error"] {
        case let string as String: text = string
        case let nested as [String: Any]: text = nested["message"] as? String
        default: break
        }
        if text == nil {
            switch object["detail"] {
            case let string as String: text = string
            case let list as [[String: Any]]: text = list.compactMap { $0["msg"] as? String }.joined(separator: "; ")
            default: text = object["message"] as? String
            }
        }
        guard let text, !text.isEmpty else { return nil }
        return ChatStreamDecoder.clip(text)
    }
}
