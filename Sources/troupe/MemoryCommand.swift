import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Add, recall, import, export and inspect memories.",
        subcommands: [
            Add.self, Update.self, Recall.self, Working.self, Show.self, History.self, Forget.self, Import.self, Export.self,
            Stats.self, Reembed.self, Consolidate.self, Decay.self,
        ])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write memories as JSONL (re-importable), in a stable order.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this persona's (or shared slice's) memories.") var persona: String?
        @Option(help: "Only this slice (repeatable).") var slice: [SliceKind] = []
        @Option(name: [.short, .long], help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let service = try await global.service()
            let sink = OutputSink(path: output)
            let count = try await service.export(owner: persona, slices: slice.isEmpty ? nil : slice, .local) { try sink.write($0) }
            try sink.close()
            if output != nil { Output.stderr("exported \(ProgressLine.grouped(count)) records to \(output!)") }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count memories per persona and slice.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let all = try await global.service().stats(.local)
            if json {
                Output.json(all.json)
                return
            }
            let stats = all.store
            let owners = Array(Set(stats.buckets.map(\.owner))).sorted()
            let rows = owners.map { owner in
                [owner] + SliceKind.allCases.map { slice in
                    String(stats.buckets.first { $0.owner == owner && $0.slice == slice }?.count ?? 0)
                } + [String(stats.buckets.filter { $0.owner == owner }.reduce(0) { $0 + $1.count })]
            }
            Output.stdout(Table.render(header: ["OWNER"] + SliceKind.allCases.map { $0.rawValue.uppercased() } + ["TOTAL"], rows: rows))
            if let model = all.vectorModel, let missing = all.withoutVector {
                Output.stdout("\nvectors: \(ProgressLine.grouped(stats.total - missing)) of \(ProgressLine.grouped(stats.total)) records embedded with \(model)"
                    + (missing > 0 ? " (run `troupe memory reembed` for the other \(ProgressLine.grouped(missing)))" : ""))
            }
            if let tier = all.hotTier { Output.stdout("\n" + HotTierText.summary(tier)) }
            Output.stdout("""

                \(ProgressLine.grouped(stats.total)) current records, \(ProgressLine.grouped(stats.supersededVersions)) superseded versions, \
                \(stats.forgotten) forgotten; \(ByteCount.format(stats.bytesOnDisk ?? 0)) on disk at \(all.storePath) \
                (schema \(stats.schemaVersion ?? "?"))
                """)
        }
    }
}

/// Buffered output to stdout or a file. The file is created at the first flush, so that an
/// export refused before it begins (a persona it may not read, an unknown one) leaves none.
final class OutputSink {
    private let path: String?
    private var handle: FileHandle?
    private var buffer = Data()

    init(path: String?) {
        self.path = path
        if path == nil { handle = .standardOutput }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        try opened().write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if path != nil { try handle?.close() }
    }

    private func opened() throws -> FileHandle {
        if let handle { return handle }
        guard let path, FileManager.default.createFile(atPath: path, contents: nil) else {
            throw TroupeError(.invalidInput, "cannot create file", context: path ?? "-")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        self.handle = handle
        return handle
    }
}
