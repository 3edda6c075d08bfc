import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// Import checks what a file claims: kinds of shared slices, who wrote, ids, keys, times, and
/// how long a line may be.
@Suite("Import of files nobody here wrote")
struct ImportHardeningTests {
    let directory: TemporaryDirectory
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws { directory = try TemporaryDirectory() }

    var context: MemoryLine.Context {
        MemoryLine.Context(
            knownOwners: ["athena", "incident-log"], now: now, sharedKinds: ["incident-log": .episodic])
    }

    func run(_ text: String, skipInvalid: Bool = false, keepSource: Bool = false, maxLineBytes: Int = 4 << 20)
        async throws -> (MemoryImporter.Report, InMemoryStore)
    {
        let file = directory.file("in.jsonl")
        try text.writeUnsynced(to: file)
        let store = InMemoryStore()
        var context = self.context
        context.keepSource = keepSource
        let importer = MemoryImporter(
            store: store, context: context, options: .init(skipInvalid: skipInvalid, maxLineBytes: maxLineBytes))
        return (try await importer.run(file: file), store)
    }

    func problems(_ report: MemoryImporter.Report) -> [String] {
        report.problems.map { "\($0.line) \($0.field ?? "-"): \($0.message)" }
    }

    @Test func aSharedSliceLineMustBeOfTheDeclaredKind() async throws {
        let (report, store) = try await run(#"{"persona":"incident-log","slice":"semantic","content":"db down"}"# + "\n")
        #expect(report.outcome == .rejected)
        #expect(problems(report) == ["1 slice: 'incident-log' is a shared slice of kind episodic, not semantic"])
        #expect(await store.stats().total == 0)
    }

    @Test func theImporterIsTheWriterAndTheFilesClaimIsKept() async throws {
        let line = #"{"id":"a","persona":"athena","slice":"semantic","content":"x","source":"hestia"}"# + "\n"
        let (report, store) = try await run(line)
        #expect(report.outcome == .imported)
        let record = try #require(await store.get("a"))
        #expect(record.source == "import")
        #expect(record.metadata == .object(["claimed_source": .string("hestia")]))
        // Trusted only when asked (restoring an export).
        let (_, trusted) = try await run(line, keepSource: true)
        #expect(await trusted.get("a")?.source == "hestia")
    }

    @Test func duplicateIdsInOneFileAreRefusedNamingBothLines() async throws {
        let text = """
            {"id":"a","persona":"athena","slice":"semantic","content":"first"}
            {"id":"b","persona":"athena","slice":"semantic","content":"other"}
            {"id":"a","persona":"athena","slice":"semantic","content":"second"}

            """
        let (report, _) = try await run(text)
        #expect(report.outcome == .rejected)
        #expect(problems(report) == ["3 id: the id 'a' is also on line 1; each record may appear once in a file"])
        // With --skip-invalid the first one lands, and importing again changes nothing.
        let (skipped, kept) = try await run(text, skipInvalid: true)
        #expect(skipped.written.inserted == 2 && skipped.invalid == 1)
        #expect(await kept.get("a")?.content == "first")
        #expect(try await kept.history("a").versions.count == 1)
    }

    @Test func duplicateKeysAndTimesWithoutAZoneAreRefused() async throws {
        let text = """
            {"persona":"athena","slice":"semantic","content":"a","content":"b"}
            {"persona":"athena","slice":"semantic","content":"c","created_at":"2026-11-23T14:15:28"}

            """
        let (report, _) = try await run(text)
        let found = problems(report)
        #expect(found.count == 2)
        #expect(found[0].hasPrefix("1 -: not valid JSON") && found[0].contains("duplicate key 'content'"))
        #expect(found[1] == "2 created_at: expected an RFC 3339 time such as 2026-11-23T14:15:28Z")
    }

    @Test func aLineOverTheLimitIsNamedAndSkippedWithoutBeingKept() async throws {
        let long = #"{"persona":"athena","slice":"semantic","content":""# + String(repeating: "x", count: 300_000) + "\"}"
        let text = #"{"id":"a","persona":"athena","slice":"semantic","content":"short"}"# + "\n" + long + "\n"
            + #"{"id":"c","persona":"athena","slice":"semantic","content":"after"}"# + "\n"
        let (report, _) = try await run(text, maxLineBytes: 64 << 10)
        #expect(report.outcome == .rejected)
        #expect(problems(report) == ["2 -: the line is 293.0 KiB long, over the limit of 64.0 KiB (storage.max_line_bytes)"])
        let (skipped, store) = try await run(text, skipInvalid: true, maxLineBytes: 64 << 10)
        #expect(skipped.written.inserted == 2)
        #expect(await store.get("c")?.content == "after")
    }

    @Test func aFileWithNoNewlineAtAllIsReadInBoundedMemory() async throws {
        // 24 MiB written and read: seconds in a debug build, off the pool.
        try await onAThreadOfItsOwn("troupe-test.import") {
            // 24 MiB without a newline, with a 1 MiB limit: one invalid line, read chunk by chunk.
            let file = directory.file("one-line.jsonl")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
            for _ in 0..<24 { handle.write(chunk) }
            try handle.close()
            var reader = try JSONLReader(url: file, chunkSize: 1 << 20, maxLineBytes: 1 << 20)
            let line = try #require(try reader.next())
            #expect(line.number == 1 && line.bytes.isEmpty && line.overLimit == 24 << 20)
            #expect(try reader.next() == nil)
        }
    }
}
