import Foundation
import Testing
import TroupeCore
@testable import TroupeLLM

@Suite("GGUF reader")
struct GGUFReaderTests {
    static let scalars: [(String, GGUFValue)] = [
        ("t.u8", .uint8(250)), ("t.i8", .int8(-7)), ("t.u16", .uint16(65000)), ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(0.5)), ("t.b", .bool(true)),
        ("t.s", .string("héllo ✓")), ("t.u64", .uint64(1 << 63 + 5)), ("t.i64", .int64(-(1 << 62))), ("t.f64", .float64(1e-300)),
    ]

    /// Q4_1: d = 0.5, m = −1, low nibbles 0…15, high nibbles 15…0.
    static let q4_1Block: [UInt8] = [0x00, 0x38, 0x00, 0xBC] + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
    /// Q8_0: d = 0.25, codes −16…15.
    static let q8_0Block: [UInt8] = [0x00, 0x34] + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }

    static func sampleTensors() -> [GGUFWriter.Tensor] {
        var f32: [UInt8] = []
        for i in 0..<8 { withUnsafeBytes(of: (Float(i) * 1.5).bitPattern.littleEndian) { f32 += $0 } }
        // 1, 0.5, −2, 0.25 as f16
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0x38, 0x00, 0xC0, 0x00, 0x34]
        return [
            .init(name: "a.f32", type: 0, dimensions: [8], data: f32),
            .init(name: "b.f16", type: 1, dimensions: [4], data: f16),
            .init(name: "c.q4_1", type: 3, dimensions: [32, 1], data: q4_1Block),
            .init(name: "d.q8_0", type: 8, dimensions: [32, 1], data: q8_0Block),
        ]
    }

    static func sampleFile() -> [UInt8] {
        let arrays: [(String, GGUFValue)] = scalars.map { ("a" + $0.0.dropFirst(1), .array([$0.1, $0.1])) }
        let nested: (String, GGUFValue) = ("a.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        return GGUFWriter.file(metadata: scalars + arrays + [nested], tensors: sampleTensors())
    }

    @Test func readsEveryValueTypeAndTensorType() throws {
        let path = try GGUFWriter.temporary(Self.sampleFile())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.metadata.count == 25)
        for (key, value) in Self.scalars {
            #expect(file.metadata[key] == value, "\(key)")
            #expect(file.metadata["a" + key.dropFirst(1)] == .array([value, value]), "array of \(key)")
        }
        #expect(file.metadata["a.nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        #expect(file.alignment == 32 && file.dataOffset % 32 == 0)
        #expect(file.floats(try file.tensor("a.f32")) == (0..<8).map { Float($0) * 1.5 })
        #expect(file.floats(try file.tensor("b.f16")) == [1, 0.5, -2, 0.25])
        #expect(file.floats(try file.tensor("c.q4_1")) == (0..<16).map { 0.5 * Float($0) - 1 } + (0..<16).map { 0.5 * Float(15 - $0) - 1 })
        #expect(file.floats(try file.tensor("d.q8_0")) == (0..<32).map { 0.25 * Float($0 - 16) })
        let q = try file.tensor("c.q4_1")
        #expect(q.rows == 1 && q.columns == 32 && q.byteCount == 20)
        #expect(throws: TroupeError.self) { try file.tensor("missing") }
    }

    @Test func honoursTheAlignmentKey() throws {
        let bytes = GGUFWriter.file(metadata: [("general.alignment", .uint32(64))], tensors: Self.sampleTensors(), alignment: 64)
        let path = try GGUFWriter.temporary(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.alignment == 64 && file.dataOffset % 64 == 0)
        #expect(file.floats(try file.tensor("d.q8_0")) == (0..<32).map { 0.25 * Float($0 - 16) })
    }

    /// Every prefix of the file that cuts off a needed byte is refused with an error naming the
    /// file; none crashes.
    @Test func everyTruncationIsAnError() async throws {
        // Hundreds of files written and parsed, each error captured by #expect: off the pool.
        try await onAThreadOfItsOwn("troupe-test.gguf") {
            let bytes = Self.sampleFile()
            let full = try GGUFWriter.temporary(bytes)
            defer { try? FileManager.default.removeItem(atPath: full) }
            let file = try GGUFFile(path: full)
            let needed = file.tensors.map { $0.offset + $0.byteCount }.max()!
            for length in 1..<needed {
                let path = try GGUFWriter.temporary(Array(bytes[..<length]), name: "cut\(length)")
                defer { try? FileManager.default.removeItem(atPath: path) }
                let error = #expect(throws: TroupeError.self, "a file cut at \(length) bytes") { try GGUFFile(path: path) }
                #expect(error?.context == path)
            }
            let empty = try GGUFWriter.temporary([])
            defer { try? FileManager.default.removeItem(atPath: empty) }
            #expect(throws: TroupeError.self) { try GGUFFile(path: empty) }
        }
    }

    static func corrupt(_ bytes: [UInt8]) throws -> TroupeError? {
        let path = try GGUFWriter.temporary(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            return nil
        } catch let error as TroupeError {
            return error
        }
    }

    @Test func corruptFilesSayWhatIsWrong() throws {
        let tensors = Self.sampleTensors()
        func message(_ bytes: [UInt8]) throws -> String { try Self.corrupt(bytes)?.message ?? "no error" }

        var wrongMagic = Self.sampleFile()
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(try message(wrongMagic).contains("magic"))

        var version2 = Self.sampleFile()
        version2[4] = 2
        #expect(try message(version2).contains("version 2"))

        var w = GGUFWriter()
        w.bytes += "GGUF".utf8
        w.u32(3)
        w.u64(0)
        w.u64(1)
        w.string("k")
        w.u32(13)
        #expect(try message(w.bytes).contains("unknown value type 13"))

        // An array claiming 2⁶⁰ elements is refused before anything is allocated.
        w = GGUFWriter()
        w.bytes += "GGUF".utf8
        w.u32(3)
        w.u64(0)
        w.u64(1)
        w.string("big")
        w.u32(9)
        w.u32(4)
        w.u64(1 << 60)
        #expect(try message(w.bytes).contains("length of 'big'"))

        var deep: GGUFValue = .int8(1)
        for _ in 0..<12 { deep = .array([deep]) }
        #expect(try message(GGUFWriter.file(metadata: [("deep", deep)], tensors: [])).contains("nests arrays"))

        #expect(try message(GGUFWriter.file(metadata: [("k", .int8(1)), ("k", .int8(2))], tensors: [])).contains("twice"))
        #expect(try message(GGUFWriter.file(metadata: [("general.alignment", .uint32(12))], tensors: tensors)).contains("alignment"))

        var q4k = tensors
        q4k[2].type = 12
        #expect(try message(GGUFWriter.file(metadata: [], tensors: q4k)).contains("Q4_K"))

        var zero = tensors
        zero[0].dimensions = [8, 0]
        #expect(try message(GGUFWriter.file(metadata: [], tensors: zero)).contains("zero dimension"))

        var ragged = tensors
        ragged[3].dimensions = [48, 1]
        #expect(try message(GGUFWriter.file(metadata: [], tensors: ragged)).contains("multiple of its 32-value blocks"))

        var huge = tensors
        huge[3].dimensions = [32, 1 << 30]
        #expect(try message(GGUFWriter.file(metadata: [], tensors: huge)).contains("larger than the file") ||
                message(GGUFWriter.file(metadata: [], tensors: huge)).contains("outside the file"))

        // A tensor offset that is not a multiple of the alignment: patch the second tensor's.
        var misaligned = GGUFWriter.file(metadata: [], tensors: tensors)
        let marker = Array("b.f16".utf8)
        let at = (0..<misaligned.count).first { misaligned[$0..<min($0 + marker.count, misaligned.count)].elementsEqual(marker) }!
        misaligned[at + marker.count + 4 + 8 + 4] += 4  // name, n_dims, one dimension, type, then the offset's low byte
        #expect(try message(misaligned).contains("not a multiple of the alignment"))

        var badUTF8 = GGUFWriter()
        badUTF8.bytes += "GGUF".utf8
        badUTF8.u32(3)
        badUTF8.u64(0)
        badUTF8.u64(1)
        badUTF8.u64(2)
        badUTF8.bytes += [0xC3, 0x28]
        badUTF8.value(.int8(0))
        #expect(try message(badUTF8.bytes).contains("not valid UTF-8"))
    }

    /// Random corruption of the header, metadata and tensor infos: every file either opens, with
    /// every tensor inside it, or is refused with an error; none crashes.
    @Test func randomCorruptionNeverCrashes() async throws {
        // 200 files written, parsed and decoded: off the pool.
        try await onAThreadOfItsOwn("troupe-test.gguf") {
            let bytes = Self.sampleFile()
            let original = try GGUFWriter.temporary(bytes)
            defer { try? FileManager.default.removeItem(atPath: original) }
            let headerEnd = try GGUFFile(path: original).dataOffset
            var random = SplitMix64(seed: 2024)
            var opened = 0, refused = 0
            for round in 0..<200 {
                var mutated = bytes
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let at = Int(random.next() % UInt64(headerEnd))
                    mutated[at] = random.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: random.next())
                }
                let path = try GGUFWriter.temporary(mutated, name: "fuzz\(round)")
                defer { try? FileManager.default.removeItem(atPath: path) }
                do {
                    let file = try GGUFFile(path: path)
                    for tensor in file.tensors where tensor.byteCount <= 1 << 20 {
                        #expect(file.floats(tensor).count == tensor.rows * tensor.columns)
                    }
                    opened += 1
                } catch let error as TroupeError {
                    #expect(error.context == path)
                    refused += 1
                }
            }
            #expect(opened + refused == 200 && refused > 0)
        }
    }

    @Test func missingFileIsNamed() throws {
        let path = "/nonexistent/troupe/model.gguf"
        let error = #expect(throws: TroupeError.self) { try GGUFFile(path: path) }
        #expect(error?.context == path)
        #expect(error?.code == .unavailable)
    }

    /// A GGUF that parses but is not a chat model the decoder can run: the backend says so.
    @Test func aValidFileThatIsNoLlamaIsRefused() throws {
        let path = try GGUFWriter.temporary(Self.sampleFile())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: TroupeError.self) { try EmbeddedBackend(modelFile: URL(fileURLWithPath: path)) }
        #expect(error?.message.contains("general.architecture") == true)
    }
}
