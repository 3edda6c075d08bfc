import Foundation
import TroupeCore
@testable import TroupeLLM

/// Writes small GGUF v3 files for the reader's tests, field by field, so that a test can also
/// write them wrong.
struct GGUFWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes += s.utf8
    }

    /// A metadata value with its type tag.
    mutating func value(_ v: GGUFValue) {
        u32(Self.tag(v))
        payload(v)
    }

    mutating func payload(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): u8(x)
        case .int8(let x): u8(UInt8(bitPattern: x))
        case .uint16(let x): u16(x)
        case .int16(let x): u16(UInt16(bitPattern: x))
        case .uint32(let x): u32(x)
        case .int32(let x): u32(UInt32(bitPattern: x))
        case .float32(let x): u32(x.bitPattern)
        case .bool(let x): u8(x ? 1 : 0)
        case .string(let x): string(x)
        case .array(let items):
            u32(items.first.map(Self.tag) ?? 0)
            u64(UInt64(items.count))
            for item in items { payload(item) }
        case .uint64(let x): u64(x)
        case .int64(let x): u64(UInt64(bitPattern: x))
        case .float64(let x): u64(x.bitPattern)
        }
    }

    static func tag(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    struct Tensor {
        var name: String
        var type: UInt32
        var dimensions: [UInt64]
        var data: [UInt8]
    }

    /// A whole file: header, metadata in order, tensor infos, padding to `alignment`, data.
    static func file(metadata: [(String, GGUFValue)], tensors: [Tensor], alignment: Int = 32) -> [UInt8] {
        var w = GGUFWriter()
        w.bytes += "GGUF".utf8
        w.u32(3)
        w.u64(UInt64(tensors.count))
        w.u64(UInt64(metadata.count))
        for (key, value) in metadata {
            w.string(key)
            w.value(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, at) in zip(tensors, offsets) {
            w.string(t.name)
            w.u32(UInt32(t.dimensions.count))
            for d in t.dimensions { w.u64(d) }
            w.u32(t.type)
            w.u64(UInt64(at))
        }
        while w.bytes.count % alignment != 0 { w.u8(0) }
        for t in tensors {
            w.bytes += t.data
            while w.bytes.count % alignment != 0 { w.u8(0) }
        }
        return w.bytes
    }

    /// Writes `bytes` to a fresh temporary file and returns its path. With write(2) alone:
    /// Foundation's `Data.write` also syncs the file to disk, which a throwaway file does not
    /// need and which, on a busy disk, holds the calling thread (often the pool's) for long.
    static func temporary(_ bytes: [UInt8], name: String = "model") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-gguf-\(UUID().uuidString)-\(name).gguf").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TroupeError(.unavailable, "cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else { throw TroupeError(.unavailable, "cannot write \(path): errno \(errno)") }
            written += n
        }
        return path
    }
}
