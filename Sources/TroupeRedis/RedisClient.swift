import Foundation
import TroupeCore
import TroupeStore

/// A Redis connection with timeouts and reconnection: the Swift face of the hiredis adapter.
///
/// An actor on a thread of its own (see ``ThreadExecutor``). A command on a broken connection
/// reconnects first; after a failed attempt, further attempts wait out a backoff (100 ms
/// doubling to 5 s) and commands fail at once meanwhile, so a dead server costs no one a
/// timeout per call. Errors are ``TroupeError``s naming the command, never its values.
public actor RedisClient {
    public nonisolated let endpoint: RedisEndpoint
    nonisolated let connectTimeout: Double
    nonisolated let commandTimeout: Double
    private let executor: ThreadExecutor
    private var connection: RedisConnection?
    private var backoff: Double = 0
    private var retryAt: ContinuousClock.Instant?
    nonisolated let firstBackoff: Double
    /// Connections made so far (the first one and every reconnection).
    public private(set) var connections = 0
    /// Connection attempts so far, failed ones included.
    public private(set) var attempts = 0

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// `firstBackoff`: seconds to wait after a first failed attempt (doubling up to 5 s).
    public init(endpoint: RedisEndpoint, connectTimeout: Double = 0.5, commandTimeout: Double = 1, firstBackoff: Double = 0.1) {
        self.firstBackoff = firstBackoff
        // hiredis writes with write(2): on a socket whose server died, that raises SIGPIPE, which
        // would end the process. Ignored, the write fails with EPIPE and becomes an error.
        signal(SIGPIPE, SIG_IGN)
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        executor = ThreadExecutor(name: "troupe-redis")
    }

    /// Sends one command; an error reply throws.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) throws -> RedisValue {
        let name = arguments.first?.name ?? "?"
        return try withConnection(name) { try $0.command(arguments.map(\.bytes), name: name) }
    }

    /// Sends the commands in one round trip; error replies come back as `.error` in their place.
    public func pipeline(_ commands: [[RedisArgument]]) throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let name = Set(commands.compactMap { $0.first?.name }).sorted().joined(separator: "+")
        return try withConnection(name) { try $0.pipeline(commands.map { $0.map(\.bytes) }, name: name) }
    }

    /// Connects now if not connected, ignoring the backoff; whether it worked.
    @discardableResult
    public func reconnect() -> Bool {
        retryAt = nil
        return (try? connected()) != nil
    }

    /// Whether a connection is open (it may still fail on the next command).
    public var isConnected: Bool { connection != nil }

    /// Drops the connection (the next command reconnects).
    public func disconnect() { connection = nil }

    /// Closes the connection and lets the client's thread end; a later command connects (and
    /// starts a thread) again.
    public func close() {
        connection = nil
        executor.stop()
    }

    private func withConnection<R>(_ name: String, _ body: (RedisConnection) throws -> R) throws -> R {
        let connection = try connected()
        do {
            return try body(connection)
        } catch {
            // A broken connection is dropped; the next command reconnects.
            if connection.isBroken { self.connection = nil }
            throw error
        }
    }

    private func connected() throws -> RedisConnection {
        if let connection { return connection }
        if let retryAt, ContinuousClock.now < retryAt {
            let left = (retryAt - .now).components
            let seconds = Double(left.seconds) + Double(left.attoseconds) / 1e18
            throw TroupeError(.unavailable, "Redis is unreachable (next attempt in \(String(format: "%.1f", seconds)) s)", context: endpoint.description)
        }
        attempts += 1
        do {
            let made = try RedisConnection(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            connection = made
            connections += 1
            backoff = 0
            retryAt = nil
            return made
        } catch {
            backoff = min(max(5, firstBackoff), max(firstBackoff, backoff * 2))
            retryAt = .now + .milliseconds(Int64(backoff * 1000))
            throw error
        }
    }
}

/// One argument of a Redis command: bytes, made from text, numbers or data.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    public var bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(stringLiteral text: String) { self.init(text) }
    public init(stringInterpolation: DefaultStringInterpolation) { self.init(String(stringInterpolation: stringInterpolation)) }
    public init(_ number: Int) { self.init(String(number)) }
    public init(_ number: Int64) { self.init(String(number)) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The command's name when this is its first argument (upper-cased, for messages).
    var name: String { String(decoding: bytes.prefix(24), as: UTF8.self).uppercased() }
}
