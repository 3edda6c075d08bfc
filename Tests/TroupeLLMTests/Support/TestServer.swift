import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TroupeCore

/// An HTTP/1.1 server on a free loopback port that answers each request with exactly the bytes,
/// pauses and closes a test scripts: it can split an SSE event anywhere, hold back the first
/// token, drop the connection mid-stream, or wait to see the client hang up.
///
/// It parses just enough HTTP for the client under test (a request line, headers,
/// `Content-Length` body) and writes responses by hand, so that what reaches the wire is what
/// the script says.
final class TestServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: [UInt8]

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    enum Step: Sendable {
        case write([UInt8])
        case pause(Duration)
        /// Reads until the client closes its side (or resets it), then notes it in ``clientCloses``;
        /// the last step of a script.
        case waitForClientToClose
    }

    /// The steps for the `index`th request (0 for the first) the server received.
    typealias Handler = @Sendable (_ request: Request, _ index: Int) -> [Step]

    private struct Log {
        var requests: [Request] = []
        var clientCloses = 0
    }

    let port: Int
    private let log = NIOLockedValueBox(Log())
    private let handler: Handler
    private let serverChannel: any Channel
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// The server's tasks run on a thread of their own, not on the cooperative pool: under load
    /// (the pool check holds the pool to one thread, and a busy suite queues work on it for
    /// seconds) a server that waits its turn there answers after the client under test has
    /// timed out, and the test fails for the machine's business, not the client's.
    private let executor = ThreadExecutor(name: "troupe.test-server")

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var requests: [Request] { log.withLockedValue { $0.requests } }
    var clientCloses: Int { log.withLockedValue { $0.clientCloses } }

    private init(port: Int, channel: any Channel, handler: @escaping Handler) {
        self.port = port
        self.serverChannel = channel
        self.handler = handler
    }

    /// Starts a server; ``stop()`` it at the end of the test.
    static func start(_ handler: @escaping Handler) async throws -> TestServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let instance = TestServer(port: server.channel.localAddress!.port!, channel: server.channel, handler: handler)
        let task = Task<Void, Never>(executorPreference: instance.executor) {
            try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await instance.serve(connection) }
                    }
                }
            }
        }
        instance.task.withLockedValue { $0 = task }
        return instance
    }

    func stop() async {
        let task = self.task.withLockedValue { $0 }
        try? await serverChannel.close()
        task?.cancel()
        await task?.value
        executor.stop()
    }

    /// A loopback port that refuses connections while the result lives (keep it alive with
    /// `withExtendedLifetime` until the last connection attempt).
    static func refusingPort() throws -> RefusingPort { try RefusingPort() }

    /// Waits (polling, up to `timeout`) until `condition` holds; whether it did.
    func eventually(timeout: Duration = .seconds(300), _ condition: @Sendable (TestServer) -> Bool) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var buffer: [UInt8] = []
            var request: Request?
            while request == nil {
                guard let chunk = try await iterator.next() else { return }
                buffer += chunk.readableBytesView
                request = Self.parse(buffer)
            }
            let index = log.withLockedValue {
                $0.requests.append(request!)
                return $0.requests.count - 1
            }
            let steps = handler(request!, index)
            let waits = steps.contains { if case .waitForClientToClose = $0 { true } else { false } }
            do {
                for step in steps {
                    switch step {
                    case .write(let bytes):
                        try await outbound.write(ByteBuffer(bytes: bytes))
                    case .pause(let duration):
                        try await Task.sleep(for: duration)
                    case .waitForClientToClose:
                        while try await iterator.next() != nil {}
                    }
                }
            } catch where !Task.isCancelled && waits {
                // The client hung up (or reset) before the script reached the wait, say while a
                // loaded machine had not yet run the writes before it: the close it waits for.
            }
            if waits { log.withLockedValue { $0.clientCloses += 1 } }
        }
    }

    /// A whole request in `bytes`, or `nil` while more is needed.
    private static func parse(_ bytes: [UInt8]) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= 4 && Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = head[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.count >= end + 4 + length else { return nil }
        return Request(method: String(parts[0]), path: String(parts[1]), headers: headers,
                       body: Array(bytes[(end + 4)..<(end + 4 + length)]))
    }
}

/// A loopback port where nothing listens, for as long as this lives: a socket bound to it but
/// never listening, so a connection is refused, and no other test's server can take the port
/// meanwhile (a port found free and let go can be bound by a parallel test before it is used).
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
