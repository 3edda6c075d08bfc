import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// The import files the fuzzer kept (Scripts/fuzz import-line), replayed: every line is read
/// within the limit or reported over it, and every record decoded encodes and decodes back to
/// itself.
@Suite("Fuzz corpus: import lines")
struct ImportFuzzCorpusTests {
    @Test func everyDecodedLineRoundTrips() async throws {
        // Hundreds of files read and every line decoded and encoded again: off the pool.
        try await onAThreadOfItsOwn("troupe-test.fuzz-corpus") {
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fuzz/Corpus/import-line")
            let inputs = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
            #expect(inputs.count >= 20, "run Scripts/fuzz import-line to grow the corpus")
            let context = MemoryLine.Context(
                knownOwners: nil, now: Date(timeIntervalSince1970: 1_800_000_000),
                sharedKinds: ["team-decisions": .semantic])
            var trusted = context
            trusted.keepSource = true
            var decoded = 0
            for url in inputs {
                var reader = try JSONLReader(url: url, chunkSize: 64, maxLineBytes: 512)
                while let line = try reader.next() {
                    #expect(line.overLimit != nil || line.bytes.count <= 512)
                    guard line.overLimit == nil, case .success(let record) = MemoryLine.decode(line.bytes, line: line.number, context: context) else {
                        continue
                    }
                    decoded += 1
                    let back = MemoryLine.decode(Data(MemoryLine.encode(record).utf8), line: 1, context: trusted)
                    #expect(try back.get() == record, "\(url.lastPathComponent):\(line.number)")
                }
            }
            #expect(decoded > 0)
        }
    }
}
