import TroupeCore

/// Reads GGUF's little-endian fields from a byte buffer, checking every read against the end, so
/// that a truncated or hostile file yields an error and never a read outside the buffer.
struct GGUFReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    func error(_ message: String) -> TroupeError {
        TroupeError(.invalidInput, "not a usable GGUF file: \(message)", context: path)
    }

    private mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw error("truncated: \(what()) at byte \(offset) needs \(count) bytes, \(remaining) remain")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let raw = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    /// A u64 that must fit an Int and stay at most `limit` (a count or a length).
    mutating func count(_ what: @autoclosure () -> String, limit: Int) throws -> Int {
        let at = offset
        let value = try integer(UInt64.self, what())
        guard value <= UInt64(limit) else { throw error("\(what()) at byte \(at) is \(value), more than the file can hold") }
        return Int(value)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let length = try count("the length of \(what())", limit: remaining)
        let at = offset
        let raw = try take(length, what())
        guard let text = String(validating: raw, as: UTF8.self) else { throw error("\(what()) at byte \(at) is not valid UTF-8") }
        return text
    }

    /// One metadata value of type `type`. Arrays nest at most `depth` levels deep (a file cannot
    /// exhaust the stack), and an array's count is checked against the bytes left before anything
    /// is allocated.
    mutating func value(type: UInt32, key: String, depth: Int = 0) throws -> GGUFValue {
        let what = "the value of '\(key)'"
        switch type {
        case 0: return .uint8(try integer(UInt8.self, what))
        case 1: return .int8(try integer(Int8.self, what))
        case 2: return .uint16(try integer(UInt16.self, what))
        case 3: return .int16(try integer(Int16.self, what))
        case 4: return .uint32(try integer(UInt32.self, what))
        case 5: return .int32(try integer(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try integer(UInt32.self, what)))
        case 7:
            let at = offset
            let raw = try integer(UInt8.self, what)
            guard raw <= 1 else { throw error("\(what) at byte \(at) is a bool of value \(raw)") }
            return .bool(raw == 1)
        case 8: return .string(try string(what))
        case 9:
            guard depth < 8 else { throw error("'\(key)' nests arrays more than 8 deep") }
            let elementType = try integer(UInt32.self, "the element type of '\(key)'")
            let smallest = Self.smallestSize(of: elementType)
            guard smallest > 0 else { throw error("'\(key)' is an array of unknown value type \(elementType)") }
            let count = try self.count("the length of '\(key)'", limit: remaining / smallest)
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try value(type: elementType, key: key, depth: depth + 1)) }
            return .array(values)
        case 10: return .uint64(try integer(UInt64.self, what))
        case 11: return .int64(try integer(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try integer(UInt64.self, what)))
        default: throw error("'\(key)' has unknown value type \(type)")
        }
    }

    /// The fewest bytes a value of `type` takes (0 for an unknown type).
    static func smallestSize(of type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: 0
        }
    }
}
