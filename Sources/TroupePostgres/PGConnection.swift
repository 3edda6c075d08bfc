import CLibPQ
import Foundation
import TroupeStore

/// Where a PostgreSQL store lives and how to log in: a libpq connection URL
/// (`postgres://user@host:port/db`, `postgres://user@%2Frun%2Fpostgresql/db` or
/// `postgres:///db?host=/path` for a unix socket), a password kept apart from it, and the schema
/// the store's tables live in.
public struct PostgresLocation: Sendable, Hashable {
    public var url: String
    public var password: String?
    /// The schema of the store's tables, created if missing; `nil` is the server's default
    /// (`public`).
    public var schema: String?

    public init(url: String, password: String? = nil, schema: String? = nil) {
        self.url = url
        self.password = password
        self.schema = schema
    }

    /// The URL as errors and `doctor` show it: any password written into it is left out.
    public var displayed: String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + String(url[at...])
    }

    /// libpq's connection keywords (the URL is expanded by libpq itself).
    var keywords: [(String, String)] {
        var pairs = [("dbname", url), ("connect_timeout", "5"), ("fallback_application_name", "troupe"), ("client_encoding", "UTF8")]
        if let password { pairs.append(("password", password)) }
        if let schema { pairs.append(("options", "-c search_path=\(schema)")) }
        return pairs
    }
}

/// What a statement returned: its rows, and how many rows it changed.
struct PGResult: Sendable {
    var rows: [PGRow] = []
    var affected = 0
}

/// One libpq connection. Not thread-safe: ``PGPool`` lends it to one caller at a time, on a
/// thread of its own (libpq blocks).
final class PGConnection: @unchecked Sendable {
    // Safe: the pool lends a connection to one caller at a time, and only the borrower uses it.
    private let handle: OpaquePointer

    /// Connects; throws with libpq's reason when the server cannot be reached or refuses.
    init(_ location: PostgresLocation) throws {
        let pairs = location.keywords
        let keys = pairs.map { strdup($0.0) } + [nil]
        let values = pairs.map { strdup($0.1) } + [nil]
        defer { (keys + values).forEach { free($0) } }
        let connection = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let connection else { throw PGError(message: "out of memory", connectionLost: true) }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.message(PQerrorMessage(connection))
            PQfinish(connection)
            throw PGError(message: reason, connectionLost: true)
        }
        // Notices (NOTICE, WARNING) are the server talking to a console; errors arrive as results.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// Whether the connection is still usable (libpq marks it bad once the server is gone).
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's version number (150018 for 15.18).
    var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Runs one statement with `parameters` (`$1`, `$2`, …), all in binary.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PGValue] = []) throws -> PGResult {
        let encoded = parameters.map(\.encoded)
        let buffers = encoded.map { bytes -> UnsafeMutablePointer<CChar>? in
            guard let bytes else { return nil }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { buffer.update(from: $0.baseAddress!, count: bytes.count) }
            }
            return buffer
        }
        defer { buffers.forEach { $0?.deallocate() } }
        let types = parameters.map(\.oid)
        let lengths = encoded.map { Int32($0?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: parameters.count)
        let values = buffers.map { UnsafePointer($0) }
        let result = PQexecParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        return try consume(result)
    }

    /// Runs statements without parameters (several, separated by semicolons), as the simple
    /// query protocol does.
    func script(_ sql: String) throws {
        _ = try consume(PQexec(handle, sql))
    }

    /// Waits up to `timeout` seconds for notifications (after `LISTEN`); returns their channels'
    /// payloads. Throws when the connection is lost.
    func notifications(timeout: Double) throws -> [String] {
        var payloads = drainNotifications()
        guard payloads.isEmpty else { return payloads }
        var poller = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        if ready < 0, errno != EINTR { throw PGError(message: "cannot wait on the connection", connectionLost: true) }
        if ready > 0, PQconsumeInput(handle) == 0 {
            throw PGError(message: Self.message(PQerrorMessage(handle)), connectionLost: true)
        }
        payloads = drainNotifications()
        return payloads
    }

    private func drainNotifications() -> [String] {
        var payloads: [String] = []
        while let note = PQnotifies(handle) {
            payloads.append(String(cString: note.pointee.extra))
            PQfreemem(note)
        }
        return payloads
    }

    private func consume(_ result: OpaquePointer?) throws -> PGResult {
        guard let result else {
            throw PGError(message: Self.message(PQerrorMessage(handle)), connectionLost: !isHealthy)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGResult(rows: [], affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
        case PGRES_TUPLES_OK:
            return PGResult(rows: try Self.rows(result), affected: Int(PQntuples(result)))
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            throw PGError(
                sqlState: state, message: primary ?? Self.message(PQresultErrorMessage(result)), connectionLost: !isHealthy)
        }
    }

    private static func rows(_ result: OpaquePointer) throws -> [PGRow] {
        let columns = Int(PQnfields(result))
        var names: [String: Int] = [:]
        var types: [UInt32] = []
        for c in 0..<columns {
            names[String(cString: PQfname(result, Int32(c)))] = c
            types.append(PQftype(result, Int32(c)))
        }
        var rows: [PGRow] = []
        rows.reserveCapacity(Int(PQntuples(result)))
        for r in 0..<PQntuples(result) {
            var values: [PGValue] = []
            values.reserveCapacity(columns)
            for c in 0..<columns {
                if PQgetisnull(result, r, Int32(c)) == 1 {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, r, Int32(c)))
                let value = try PQgetvalue(result, r, Int32(c)).withMemoryRebound(to: UInt8.self, capacity: length) {
                    try PGValue.decode(UnsafeBufferPointer(start: $0, count: length), oid: types[c])
                }
                values.append(value)
            }
            rows.append(PGRow(names: names, values: values))
        }
        return rows
    }

    private static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        // libpq's multi-line messages (one per address tried) read better on one line.
        return message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
    }
}
