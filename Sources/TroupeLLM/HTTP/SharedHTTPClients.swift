import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore

/// The HTTP clients of the process, one per connect timeout.
///
/// AsyncHTTPClient sets the connect timeout per client, not per request, and a client must be
/// shut down before it is released. Backends are values created and dropped freely, so they
/// borrow a client from here instead: like `HTTPClient.shared`, these live as long as the
/// process (their connection pools close idle connections after 60 s). There are as many as
/// there are distinct connect timeouts in the configuration: a handful.
enum SharedHTTPClients {
    private static let clients = NIOLockedValueBox<[Duration: HTTPClient]>([:])

    static func client(connectTimeout: Duration) -> HTTPClient {
        clients.withLockedValue { clients in
            if let client = clients[connectTimeout] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: TimeAmount(connectTimeout), read: nil)
            // Our own retry policy decides what to retry (with backoff and jitter); the pool's
            // retrying of refused connections until the connect timeout would hide a server
            // that is simply not there behind a wait.
            configuration.connectionPool.retryConnectionEstablishment = false
            // Compressed SSE would delay tokens until a compression block fills.
            configuration.decompression = .disabled
            configuration.redirectConfiguration = .disallow
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[connectTimeout] = client
            return client
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
