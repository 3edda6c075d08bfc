import Foundation
import Testing
import TroupeCore
import TroupeLLM

/// Each `SSECorpus/NAME.sse` is a byte stream; `NAME.json` holds the events it must give
/// (`events`: `{data, type?, id?, retry?}`), whether a partial event is left at the end
/// (`pending`), or the error it must raise (`error`), under the limits given (`limits`).
/// Every stream is fed whole, a byte at a time, and cut in two at every byte.
@Suite("SSE parser")
struct SSEParserTests {
    static let corpus = Bundle.module.resourceURL!.appendingPathComponent("SSECorpus")

    static var files: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: corpus.path))?
            .filter { $0.hasSuffix(".sse") }.map { String($0.dropLast(4)) }.sorted() ?? []
    }

    struct Expected: Decodable {
        struct Event: Decodable {
            var data: String
            var type: String?
            var id: String?
            var retry: Int?
        }
        struct Limits: Decodable {
            var line: Int
            var event: Int
        }
        var events: [Event]?
        var pending: Bool?
        var error: String?
        var limits: Limits?
    }

    @Test func corpusHasAtLeastTwentyStreams() {
        #expect(Self.files.count >= 20)
    }

    @Test(arguments: files)
    func corpusStream(name: String) async throws {
        // A parse per cut (one per byte of the stream): seconds of CPU work in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.sse") {
            let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent(name + ".sse")))
            let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.corpus.appendingPathComponent(name + ".json")))
            let limits = expected.limits.map { SSEParser.Limits(maxLineBytes: $0.line, maxEventBytes: $0.event) } ?? SSEParser.Limits()
            var cuts: [[Int]] = [[], Array(1..<max(1, bytes.count))]
            cuts += (1..<max(1, bytes.count)).map { [$0] }
            for cut in cuts {
                let outcome = Self.parse(bytes, cuttingAt: cut, limits: limits)
                if let error = expected.error {
                    #expect(outcome.error == error, "\(name), cut at \(cut.prefix(3))…")
                    continue
                }
                #expect(outcome.error == nil, "\(name): \(outcome.error ?? "")")
                let want = (expected.events ?? []).map { SSEEvent(type: $0.type, data: $0.data, id: $0.id, retry: $0.retry) }
                #expect(outcome.events == want, "\(name), cut at \(cut.prefix(3))…")
                #expect(outcome.pending == (expected.pending ?? false), "\(name)")
            }
        }
    }

    static func parse(_ bytes: [UInt8], cuttingAt cuts: [Int], limits: SSEParser.Limits) -> (events: [SSEEvent], pending: Bool, error: String?) {
        var parser = SSEParser(limits: limits)
        var events: [SSEEvent] = []
        var start = 0
        do {
            for end in cuts + [bytes.count] where end > start {
                events += try parser.feed(bytes[start..<end])
                start = end
            }
        } catch let error as TroupeError {
            return (events, false, error.message)
        } catch {
            return (events, false, "\(error)")
        }
        return (events, parser.finish(), nil)
    }

    @Test func crlfSplitBetweenFeedsIsOneLineEnd() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n".utf8)).isEmpty, "the LF completes the CRLF: no blank line yet")
        #expect(try parser.feed(Array("\r\n".utf8)) == [SSEEvent(data: "a")])
    }

    @Test func aPartialBOMIsKeptAsText() throws {
        var parser = SSEParser()
        // EF BB then 'd': not a BOM, so the bytes belong to the first field's name.
        let events = try parser.feed([0xEF, 0xBB] + Array("data: x\n\ndata: y\n\n".utf8))
        #expect(events == [SSEEvent(data: "y")])
    }

    @Test func limitsCountEveryByte() throws {
        var parser = SSEParser(limits: .init(maxLineBytes: 8, maxEventBytes: 64))
        #expect(try parser.feed(Array("data: 12\n".utf8)).isEmpty, "8 bytes is at the limit")
        #expect(throws: TroupeError.self) { try parser.feed(Array("data: 123\n".utf8)) }
    }

    /// Random streams, random cuts: the events never depend on where the bytes were cut.
    @Test func randomCutsNeverChangeTheEvents() async throws {
        // 600 parses: CPU work in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.sse") { () async throws in
            var random = SeededRandom(seed: 42)
            let alphabet = Array("data: event:id:retry: 12 x\r\n\n:é".utf8)
            for _ in 0..<300 {
                let bytes = (0..<Int.random(in: 0...80, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
                let whole = Self.parse(bytes, cuttingAt: [], limits: .init())
                let cuts = (0..<Int.random(in: 1...6, using: &random)).map { _ in Int.random(in: 0...bytes.count, using: &random) }.sorted()
                let pieces = Self.parse(bytes, cuttingAt: cuts, limits: .init())
                #expect(whole.events == pieces.events)
                #expect(whole.pending == pieces.pending)
            }
        }
    }
}

/// SplitMix64: a reproducible generator for tests.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
