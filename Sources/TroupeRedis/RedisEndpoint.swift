import Foundation
import TroupeCore
import TroupeStore

/// Where a Redis server listens: `redis://[:password@]host:port/db` or `unix:///path/to.sock`
/// (a database number may follow as `?db=N`).
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var password: String?
    public var database: Int

    public init(_ address: Address, password: String? = nil, database: Int = 0) {
        self.address = address
        self.password = password
        self.database = database
    }

    /// Parses a URL; the error says what is wrong with it (never echoing a password).
    public init(url text: String) throws {
        func invalid(_ why: String) -> TroupeError {
            TroupeError(.invalidConfig, "invalid Redis URL: \(why) (expected redis://[:password@]host:port/db or unix:///path/to.sock)")
        }
        if text.hasPrefix("unix://") {
            var rest = String(text.dropFirst("unix://".count))
            var database = 0
            if let q = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: q)...]
                rest = String(rest[..<q])
                for pair in query.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0] == "db", let n = Int(parts[1]), n >= 0 else { throw invalid("unknown query '\(pair)'") }
                    database = n
                }
            }
            guard rest.hasPrefix("/"), rest.count > 1 else { throw invalid("a unix socket path must be absolute") }
            self.init(.unix(path: rest), database: database)
            return
        }
        guard text.hasPrefix("redis://") else { throw invalid("unknown scheme") }
        var rest = Substring(text.dropFirst("redis://".count))
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            // `:password` or `user:password`; Redis before 6 has no users, so the user is ignored.
            password = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init)
            if password?.isEmpty == true { password = nil }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw invalid("the database must be a number") }
                database = n
            }
        }
        var host = String(rest), port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw invalid("the port must be 1-65535") }
            port = p
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        self.init(.tcp(host: host, port: port), password: password, database: database)
    }

    /// The URL without its password, for messages.
    public var description: String {
        switch address {
        case .tcp(let host, let port): "redis://\(password == nil ? "" : ":***@")\(host):\(port)/\(database)"
        case .unix(let path): "unix://\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }
}
