import TroupeCore

/// A GGUF v3 file, memory-mapped: its metadata, its tensors' shapes and types, and their data in
/// place. Everything is checked on opening (sizes, offsets, alignment, types), so that reading a
/// tensor later cannot go outside the file; what is wrong is reported with the file's path.
struct GGUFFile: Sendable {
    let path: String
    let version: UInt32
    let metadata: [String: GGUFValue]
    /// Tensors in file order.
    let tensors: [GGUFTensor]
    let alignment: Int
    /// Where tensor data begins (tensor offsets are relative to it in the file).
    let dataOffset: Int
    private let file: MappedModelFile
    private let index: [String: Int]

    init(path: String) throws {
        let file = try MappedModelFile(path: path)
        self.file = file
        self.path = path
        var reader = GGUFReader(bytes: file.bytes, path: path)
        guard file.bytes.count >= 4, Array(file.bytes[0..<4]) == Array("GGUF".utf8) else {
            throw reader.error("it does not start with the magic bytes 'GGUF'")
        }
        _ = try reader.integer(UInt32.self, "the magic")
        version = try reader.integer(UInt32.self, "the version")
        guard version == 3 else { throw reader.error("version \(version), only version 3 is supported") }
        // Every tensor info takes at least 28 bytes and every key-value pair 12.
        let tensorCount = try reader.count("the tensor count", limit: reader.remaining / 28)
        let pairCount = try reader.count("the metadata count", limit: reader.remaining / 12)

        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<pairCount {
            let key = try reader.string("a metadata key")
            let type = try reader.integer(UInt32.self, "the type of '\(key)'")
            let value = try reader.value(type: type, key: key)
            guard metadata.updateValue(value, forKey: key) == nil else { throw reader.error("metadata key '\(key)' appears twice") }
        }
        self.metadata = metadata

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let raw) = value, raw > 0, raw % 8 == 0 else {
                throw reader.error("general.alignment must be a u32 multiple of 8, not \(value)")
            }
            alignment = Int(raw)
        }
        self.alignment = alignment

        var infos: [(name: String, type: GGMLType, dimensions: [Int], relative: Int)] = []
        for _ in 0..<tensorCount {
            let name = try reader.string("a tensor name")
            let dimensionCount = try reader.integer(UInt32.self, "the dimension count of '\(name)'")
            guard (1...4).contains(dimensionCount) else { throw reader.error("tensor '\(name)' has \(dimensionCount) dimensions (1 to 4 allowed)") }
            var dimensions: [Int] = []
            for d in 0..<Int(dimensionCount) {
                let size = try reader.count("dimension \(d) of '\(name)'", limit: Int(Int32.max))
                guard size > 0 else { throw reader.error("tensor '\(name)' has a zero dimension") }
                dimensions.append(size)
            }
            let rawType = try reader.integer(UInt32.self, "the type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw reader.error("tensor '\(name)' is \(GGMLType.name(of: rawType)), which this reader does not support (F32, F16, Q4_1, Q8_0)")
            }
            let relative = try reader.count("the offset of '\(name)'", limit: file.bytes.count)
            infos.append((name, type, dimensions, relative))
        }
        dataOffset = (reader.offset + alignment - 1) / alignment * alignment

        var tensors: [GGUFTensor] = []
        var index: [String: Int] = [:]
        for info in infos {
            let (values, blockBytes) = info.type.block
            guard info.dimensions[0] % values == 0 else {
                throw reader.error("tensor '\(info.name)' has rows of \(info.dimensions[0]) values, not a multiple of its \(values)-value blocks")
            }
            // Dimensions are below 2³¹ and at most 4, but their product can still overflow.
            var count = 1
            for size in info.dimensions {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, product <= file.bytes.count * 2 else { throw reader.error("tensor '\(info.name)' is larger than the file") }
                count = product
            }
            let byteCount = count / values * blockBytes
            guard info.relative % alignment == 0 else {
                throw reader.error("tensor '\(info.name)' starts at data offset \(info.relative), not a multiple of the alignment \(alignment)")
            }
            let start = dataOffset + info.relative
            guard start <= file.bytes.count, byteCount <= file.bytes.count - start else {
                throw reader.error("tensor '\(info.name)' (\(byteCount) bytes at \(start)) lies outside the file of \(file.bytes.count) bytes (truncated?)")
            }
            guard index.updateValue(tensors.count, forKey: info.name) == nil else { throw reader.error("tensor '\(info.name)' appears twice") }
            tensors.append(GGUFTensor(name: info.name, type: info.type, dimensions: info.dimensions, offset: start, byteCount: byteCount))
        }
        self.tensors = tensors
        self.index = index
    }

    /// The tensor `name`, or an error naming it and the file.
    func tensor(_ name: String) throws -> GGUFTensor {
        guard let i = index[name] else { throw TroupeError(.invalidInput, "the model has no tensor '\(name)'", context: path) }
        return tensors[i]
    }

    func hasTensor(_ name: String) -> Bool { index[name] != nil }

    /// The tensor's bytes, in place in the mapping (valid as long as this value is).
    func data(_ tensor: GGUFTensor) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[tensor.offset..<(tensor.offset + tensor.byteCount)])
    }

    /// Drops the tensor's pages from the resident set (after it was copied elsewhere).
    func discard(_ tensor: GGUFTensor) { file.discard(tensor.offset..<(tensor.offset + tensor.byteCount)) }

    /// The tensor's values as Float32 (dequantised), for tests and small tensors.
    func floats(_ tensor: GGUFTensor) -> [Float] {
        let count = tensor.rows * tensor.columns
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            LLMKernels.dequantize(type: tensor.type, data(tensor), count: count, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// The metadata value `key`, or an error naming the key and the file.
    func require(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw TroupeError(.invalidInput, "the model's metadata lacks '\(key)'", context: path) }
        return value
    }

    /// A positive integer from the metadata.
    func positiveInteger(_ key: String) throws -> Int {
        let value = try require(key)
        guard let n = value.integer, n > 0 else {
            throw TroupeError(.invalidInput, "metadata '\(key)' should be a positive integer, not \(value)", context: path)
        }
        return n
    }

    /// A number from the metadata.
    func number(_ key: String) throws -> Double {
        let value = try require(key)
        guard let n = value.number, n.isFinite else { throw TroupeError(.invalidInput, "metadata '\(key)' should be a number, not \(value)", context: path) }
        return n
    }

    /// A string from the metadata.
    func string(_ key: String) throws -> String {
        let value = try require(key)
        guard let s = value.string else { throw TroupeError(.invalidInput, "metadata '\(key)' should be a string", context: path) }
        return s
    }
}
