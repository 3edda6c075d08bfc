import Foundation
import Testing
import TroupeLLM

/// The event streams the fuzzer kept (Scripts/fuzz sse), replayed: cut into pieces, a stream
/// gives the same events as whole, or is refused both ways.
@Suite("Fuzz corpus: server-sent events")
struct SSEFuzzCorpusTests {
    @Test func piecesAndWholeAgree() async throws {
        // Hundreds of files read and parsed three ways: off the pool.
        try await onAThreadOfItsOwn("troupe-test.fuzz-corpus") { () async throws in
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fuzz/Corpus/sse")
            let inputs = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
            #expect(inputs.count >= 20, "run Scripts/fuzz sse to grow the corpus")
            let limits = SSEParser.Limits(maxLineBytes: 256, maxEventBytes: 1024)
            for url in inputs {
                let bytes = [UInt8](try Data(contentsOf: url))
                var whole = SSEParser(limits: limits)
                let all = try? whole.feed(bytes)
                for width in [1, 8] {
                    var pieces = SSEParser(limits: limits)
                    var cut: [SSEEvent]? = []
                    for start in stride(from: 0, to: bytes.count, by: width) {
                        guard let events = try? pieces.feed(bytes[start..<min(start + width, bytes.count)]) else {
                            cut = nil
                            break
                        }
                        cut?.append(contentsOf: events)
                    }
                    #expect(all == cut, "\(url.lastPathComponent) in pieces of \(width)")
                }
            }
        }
    }
}
