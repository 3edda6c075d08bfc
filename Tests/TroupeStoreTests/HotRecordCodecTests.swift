import Foundation
import Testing
import TroupeCore
import TroupeStoreDriverSupport
import TroupeVault
@testable import TroupeRedis
@testable import TroupeStore

@Suite("Hot record codec")
struct HotRecordCodecTests {
    static let records: [MemoryRecord] = [
        MemoryRecord(id: "m-1", owner: "athena", slice: .working, content: "short", source: "athena", createdAt: Date(millisecondsSince1970: 1_800_000_000_123)),
        MemoryRecord(
            id: "m-2", owner: "team-notes", slice: .episodic, content: "Ünïcödé, emoji 🎭, NUL \u{0} and\nnewlines", importance: 0.875,
            tags: ["a", "", "ταγ"], source: "import", createdAt: Date(millisecondsSince1970: 1), lastAccessedAt: Date(millisecondsSince1970: 5),
            accessCount: 42, validFrom: Date(millisecondsSince1970: 2), validTo: Date(millisecondsSince1970: 9), expiresAt: Date(millisecondsSince1970: 3_600_001),
            version: 17, modelID: "all-minilm-l6-v2", metadata: .object(["k": .array([.number(1.5), .string("v"), .null])])),
    ]

    @Test func roundTripsEveryField() throws {
        for record in Self.records {
            let bytes = try HotRecordCodec.encode(record)
            #expect(HotRecordCodec.decode(bytes) == record)
            // The header the Lua put script reads.
            #expect(bytes.starts(with: Array("\(record.version)\n".utf8)))
        }
    }

    @Test func truncatedOrForeignValuesDecodeToNil() throws {
        let bytes = try HotRecordCodec.encode(Self.records[1])
        for cut in stride(from: 0, to: bytes.count, by: 7) { #expect(HotRecordCodec.decode(Array(bytes.prefix(cut))) == nil, "cut at \(cut)") }
        var other = bytes
        other[other.firstIndex(of: UInt8(ascii: "\n"))! + 1] = 99
        #expect(HotRecordCodec.decode(other) == nil)
        #expect(HotRecordCodec.decode(Array(HotTier.forgotten.utf8)) == nil)
    }

    @Test func aSealedCopyHoldsNothingOfTheRecordAndOpensOnlyWithItsKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try await TestVault.made(in: directory)
        for record in Self.records {
            let bytes = try HotRecordCodec.encode(record, sealer: vault)
            #expect(bytes.starts(with: Array("\(record.version)\n".utf8)))
            #expect(HotRecordCodec.decode(bytes, sealer: vault) == record)
            #expect(Data(bytes).range(of: Data(record.content.utf8)) == nil)
            // Read without the vault, or as a plain value with it: not a record.
            #expect(HotRecordCodec.decode(bytes) == nil)
            #expect(HotRecordCodec.decode(try HotRecordCodec.encode(record), sealer: vault) == nil)
        }
        // Moved to another record's version: does not open.
        var moved = try HotRecordCodec.encode(Self.records[1], sealer: vault)
        moved.replaceSubrange(0..<3, with: Array("18\n".utf8))
        #expect(HotRecordCodec.decode(moved, sealer: vault) == nil)
    }
}
