import Foundation
import TroupeCore

/// A read-only memory map of a whole file, unmapped when released.
///
/// `@unchecked Sendable`: the mapping is never written (PROT_READ) and lives as long as this
/// object, so any thread may read through `base`.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TroupeError(.unavailable, "cannot open file: \(String(cString: strerror(errno)))", context: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TroupeError(.unavailable, "cannot stat file", context: path) }
        count = Int(info.st_size)
        guard count > 0 else { throw TroupeError(.invalidInput, "file is empty", context: path) }
        guard let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw TroupeError(.unavailable, "cannot map file: \(String(cString: strerror(errno)))", context: path)
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), count) }
}

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. The file is memory-mapped and F32
/// tensors are read in place.
struct SafeTensors: Sendable {
    struct Tensor: Sendable {
        var dtype: String
        var shape: [Int]
        var range: Range<Int>
    }

    let path: String
    let file: MappedFile
    let tensors: [String: Tensor]

    init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        func corrupt(_ why: String) -> TroupeError { TroupeError(.invalidInput, "not a valid safetensors file: \(why)", context: path) }
        guard file.count >= 8 else { throw corrupt("shorter than its 8-byte header length") }
        let headerLength = Int(UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self)))
        guard headerLength > 0, headerLength <= file.count - 8 else { throw corrupt("header length \(headerLength) exceeds the file") }
        let header = UnsafeRawBufferPointer(start: file.base + 8, count: headerLength)
        guard case .object(let entries) = try? JSONValue.parse(header) else { throw corrupt("header is not a JSON object") }
        let dataStart = 8 + headerLength
        var tensors: [String: Tensor] = [:]
        for (name, entry) in entries where name != "__metadata__" {
            guard case .object(let fields) = entry, case .string(let dtype)? = fields["dtype"],
                case .array(let shapeValues)? = fields["shape"], case .array(let offsets)? = fields["data_offsets"], offsets.count == 2,
                case .number(let begin) = offsets[0], case .number(let end) = offsets[1]
            else { throw corrupt("tensor '\(name)' has no dtype, shape or data_offsets") }
            let shape = shapeValues.compactMap { value -> Int? in if case .number(let n) = value { Int(n) } else { nil } }
            let range = (dataStart + Int(begin))..<(dataStart + Int(end))
            guard shape.count == shapeValues.count, begin <= end, range.upperBound <= file.count else {
                throw corrupt("tensor '\(name)' lies outside the file (truncated?)")
            }
            tensors[name] = Tensor(dtype: dtype, shape: shape, range: range)
        }
        self.tensors = tensors
    }

    /// The F32 tensor `name`, checked against `shape`, as a pointer into the mapping (valid as
    /// long as this value's file is).
    func floats(_ name: String, shape: [Int]) throws -> UnsafeBufferPointer<Float> {
        guard let tensor = tensors[name] else { throw TroupeError(.invalidInput, "tensor '\(name)' is missing", context: path) }
        guard tensor.dtype == "F32" else {
            throw TroupeError(.invalidInput, "tensor '\(name)' is \(tensor.dtype), expected F32", context: path)
        }
        guard tensor.shape == shape, tensor.range.count == shape.reduce(4, *) else {
            throw TroupeError(.invalidInput, "tensor '\(name)' has shape \(tensor.shape), expected \(shape)", context: path)
        }
        let start = file.base + tensor.range.lowerBound
        // Writers pad the header so that data is aligned; a file that is not is refused rather
        // than copied.
        guard Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else {
            throw TroupeError(.invalidInput, "tensor '\(name)' is not 4-byte aligned", context: path)
        }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: tensor.range.count / 4)
    }
}
