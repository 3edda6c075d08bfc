import Foundation
import TroupeStore

/// A value sent to PostgreSQL or read back, in the binary wire format (exact for every type
/// the store uses: no float text round trips, no bytea hex).
enum PGValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes(Data)
    /// A one-dimensional array of elements of type `of` (nulls allowed).
    indirect case array([PGValue], of: UInt32)

    static func texts(_ items: [String]) -> PGValue { .array(items.map(PGValue.text), of: textOID) }
    static func ints(_ items: [Int64]) -> PGValue { .array(items.map(PGValue.int), of: int8OID) }
    static func bools(_ items: [Bool]) -> PGValue { .array(items.map(PGValue.bool), of: boolOID) }

    // Type OIDs (pg_type.h).
    static let boolOID: UInt32 = 16, byteaOID: UInt32 = 17, nameOID: UInt32 = 19, int8OID: UInt32 = 20
    static let int2OID: UInt32 = 21, int4OID: UInt32 = 23, textOID: UInt32 = 25, float4OID: UInt32 = 700
    static let float8OID: UInt32 = 701, varcharOID: UInt32 = 1043, voidOID: UInt32 = 2278
    /// The array type of each element type parameters use.
    static let arrayOIDs: [UInt32: UInt32] = [boolOID: 1000, byteaOID: 1001, int8OID: 1016, textOID: 1009, float8OID: 1022]

    /// The parameter's type OID (0 lets the server infer it, for a null).
    var oid: UInt32 {
        switch self {
        case .null: 0
        case .bool: Self.boolOID
        case .int: Self.int8OID
        case .double: Self.float8OID
        case .text: Self.textOID
        case .bytes: Self.byteaOID
        case .array(_, let element): Self.arrayOIDs[element] ?? 0
        }
    }

    /// The binary encoding of a parameter, or `nil` for SQL NULL.
    var encoded: [UInt8]? {
        switch self {
        case .null: return nil
        case .bool(let b): return [b ? 1 : 0]
        case .int(let i): return Self.bigEndian(UInt64(bitPattern: i))
        case .double(let d): return Self.bigEndian(d.bitPattern)
        case .text(let s): return Array(s.utf8)
        case .bytes(let d): return [UInt8](d)
        case .array(let items, let element): return Self.array(items.map(\.encoded), element: element)
        }
    }

    /// Decodes a binary column value of type `oid`.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, oid: UInt32) throws -> PGValue {
        switch oid {
        case boolOID: return .bool(bytes.first == 1)
        case int8OID, int4OID, int2OID:
            var value: Int64 = 0
            for byte in bytes { value = value << 8 | Int64(byte) }
            // Sign-extend the narrower integers.
            let width = bytes.count * 8
            if width < 64, width > 0 { value = (value << (64 - width)) >> (64 - width) }
            return .int(value)
        case float8OID:
            var bits: UInt64 = 0
            for byte in bytes { bits = bits << 8 | UInt64(byte) }
            return .double(Double(bitPattern: bits))
        case float4OID:
            var bits: UInt32 = 0
            for byte in bytes { bits = bits << 8 | UInt32(byte) }
            return .double(Double(Float(bitPattern: bits)))
        case textOID, varcharOID, nameOID: return .text(String(decoding: bytes, as: UTF8.self))
        case byteaOID: return .bytes(Data(bytes))
        case voidOID: return .null
        default: throw PGError(message: "unexpected column type \(oid) in a result")
        }
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A one-dimensional array: dimensions, whether it has nulls, element type, length and lower
    /// bound, then each element with its length (-1 for a null).
    private static func array(_ elements: [[UInt8]?], element: UInt32) -> [UInt8] {
        var out = bigEndian(Int32(1)) + bigEndian(Int32(elements.contains { $0 == nil } ? 1 : 0)) + bigEndian(element)
        out += bigEndian(Int32(elements.count)) + bigEndian(Int32(1))
        for e in elements {
            if let e { out += bigEndian(Int32(e.count)) + e } else { out += bigEndian(Int32(-1)) }
        }
        return out
    }
}

/// One row of a result, decoded; columns by name or position.
struct PGRow: Sendable {
    let names: [String: Int]
    let values: [PGValue]

    subscript(_ name: String) -> PGValue {
        guard let i = names[name] else { return .null }
        return values[i]
    }

    func string(_ name: String) throws -> String {
        guard case .text(let s) = self[name] else { throw PGError.column(name, "text") }
        return s
    }

    func optionalString(_ name: String) -> String? {
        if case .text(let s) = self[name] { s } else { nil }
    }

    func int(_ name: String) throws -> Int64 {
        guard case .int(let i) = self[name] else { throw PGError.column(name, "an integer") }
        return i
    }

    func optionalInt(_ name: String) -> Int64? {
        if case .int(let i) = self[name] { i } else { nil }
    }

    func double(_ name: String) throws -> Double {
        guard case .double(let d) = self[name] else { throw PGError.column(name, "a number") }
        return d
    }

    func bytes(_ name: String) throws -> Data {
        guard case .bytes(let d) = self[name] else { throw PGError.column(name, "bytes") }
        return d
    }

    func optionalBytes(_ name: String) -> Data? {
        if case .bytes(let d) = self[name] { d } else { nil }
    }

    func bool(_ name: String) throws -> Bool {
        guard case .bool(let b) = self[name] else { throw PGError.column(name, "a boolean") }
        return b
    }
}

/// A PostgreSQL failure: its SQLSTATE and the server's (or libpq's) message; never the
/// statement's arguments, which may hold a user's content.
struct PGError: Error, CustomStringConvertible, Sendable {
    var sqlState: String?
    var message: String
    /// The connection was found broken after the failure.
    var connectionLost = false
    /// It was lost while COMMIT was under way: the transaction may or may not have committed.
    var duringCommit = false

    var description: String { sqlState.map { "PostgreSQL error \($0): \(message)" } ?? message }

    /// Serialization failure or deadlock: the transaction may simply be run again.
    var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The connection is gone or the server is going away (class 08, admin shutdown, crash
    /// shutdown, cannot connect now), or libpq found it broken.
    var isConnectionLoss: Bool {
        guard !connectionLost, let state = sqlState else { return connectionLost }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    /// Disk full (53100) or out of memory or connections (class 53).
    var isResourceShortage: Bool { sqlState?.hasPrefix("53") ?? false }

    static func column(_ name: String, _ kind: String) -> PGError {
        PGError(message: "column '\(name)' is not \(kind)")
    }
}
