import Foundation
internal import CHiredis
import TroupeCore
import TroupeStore

/// A Redis reply, copied out of hiredis's reply object.
public enum RedisValue: Sendable, Hashable {
    case bulk([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisValue])
    case null
    /// An error reply (`-ERR …`), for one command of a pipeline.
    case error(String)

    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// A bulk reply's bytes.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    public var integer: Int64? {
        switch self {
        case .integer(let n): n
        case .bulk, .status: string.flatMap { Int64($0) }
        default: nil
        }
    }

    public var array: [RedisValue]? { if case .array(let items) = self { items } else { nil } }
}

/// The one place hiredis is called: a `redisContext` and the argv forms of its commands (the
/// variadic `redisCommand` is not callable from Swift). Not `Sendable`: owned by one
/// ``RedisClient`` actor, which runs on a thread of its own because these calls block.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisEndpoint

    /// Connects, authenticates and selects the database; throws `.unavailable` naming the
    /// endpoint (never the password) when any step fails.
    init(endpoint: RedisEndpoint, connectTimeout: Double, commandTimeout: Double) throws {
        self.endpoint = endpoint
        let connect = Self.timeval(connectTimeout)
        let made: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, Int32(port), connect)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, connect)
        }
        guard let made else { throw TroupeError(.unavailable, "cannot connect to Redis: out of memory", context: endpoint.description) }
        if made.pointee.err != 0 {
            let reason = Self.errorText(made)
            redisFree(made)
            throw TroupeError(.unavailable, "cannot connect to Redis: \(reason)", context: endpoint.description)
        }
        context = made
        redisSetTimeout(context, Self.timeval(commandTimeout))
        if case .tcp = endpoint.address { redisEnableKeepAlive(context) }
        if let password = endpoint.password { _ = try command(["AUTH", password].map(Self.bytes), name: "AUTH") }
        if endpoint.database != 0 { _ = try command(["SELECT", String(endpoint.database)].map(Self.bytes), name: "SELECT") }
    }

    deinit { redisFree(context) }

    /// Whether the connection failed (an I/O error, a timeout, a closed socket): it cannot be
    /// used again.
    var isBroken: Bool { context.pointee.err != 0 }

    /// Sends one command and waits for its reply. An error reply throws, naming the command.
    func command(_ argv: [[UInt8]], name: String) throws -> RedisValue {
        let reply = Self.withArgv(argv) { count, pointers, lengths in redisCommandArgv(context, count, pointers, lengths) }
        guard let reply else { throw failure(name) }
        defer { freeReplyObject(reply) }
        let value = Self.value(reply.assumingMemoryBound(to: redisReply.self))
        if case .error(let message) = value { throw TroupeError(.storage, "Redis refused \(name): \(message)", context: endpoint.description) }
        return value
    }

    /// Sends every command, then reads every reply (one round trip for the lot). Error replies
    /// come back as `.error` values in their place; a connection failure throws.
    func pipeline(_ commands: [[[UInt8]]], name: String) throws -> [RedisValue] {
        for argv in commands {
            let status = Self.withArgv(argv) { count, pointers, lengths in redisAppendCommandArgv(context, count, pointers, lengths) }
            guard status == REDIS_OK else { throw failure(name) }
        }
        var values: [RedisValue] = []
        values.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw failure(name) }
            values.append(Self.value(reply.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(reply)
        }
        return values
    }

    private func failure(_ name: String) -> TroupeError {
        TroupeError(.unavailable, "Redis \(name) failed: \(Self.errorText(context))", context: endpoint.description)
    }

    // MARK: Conversions

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The arguments laid out in one buffer, with the pointer and length arrays hiredis takes.
    private static func withArgv<R>(
        _ argv: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(argv.reduce(0) { $0 + $1.count })
        var lengths: [Int] = []
        for arg in argv {
            buffer += arg
            lengths.append(arg.count)
        }
        return buffer.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return base + offset
            }
            return pointers.withUnsafeMutableBufferPointer { p in
                lengths.withUnsafeBufferPointer { l in body(Int32(argv.count), p.baseAddress!, l.baseAddress!) }
            }
        }
    }

    private static func value(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(r.len > 0 ? Array(UnsafeRawBufferPointer(start: r.str, count: r.len)) : [])
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            // Some errors quote the command's arguments ("… with args beginning with: …"): cut
            // them, so that a message never carries a user's content.
            let text = String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self)
            return .error(String(text.components(separatedBy: ", with args").first ?? text))
        case REDIS_REPLY_INTEGER:
            return .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            return .array((0..<r.elements).map { value(r.element[$0]!) })
        default:
            return .null
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        var errstr = context.pointee.errstr
        let text = withUnsafeBytes(of: &errstr) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "error \(context.pointee.err)" : text
    }

    private static func timeval(_ seconds: Double) -> timeval {
        Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
    }
}
