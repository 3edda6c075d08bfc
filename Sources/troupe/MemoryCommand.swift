import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Add, recall, import, export and inspect memories.",
        subcommands: [
            Add.self, Update.self, Recall.self, Working.self, Show.self, History.self, Forget.self, Import.self, Export.self,
            Stats.self, Reembed.self,
        ])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write memories as JSONL (re-importable), in a stable order.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this persona's (or shared slice's) memories.") var persona: String?
        @Option(help: "Only this slice (repeatable).") var slice: [SliceKind] = []
        @Option(name: [.short, .long], help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let runtime = try await global.memoryRuntime()
            var query = MemoryQuery(slices: slice.isEmpty ? nil : slice)
            if let persona { query.owners = [try runtime.owner(persona)] }
            let sink = try OutputSink(path: output)
            let count = try await runtime.export(query) { try sink.write($0) }
            try sink.close()
            if output != nil { Output.stderr("exported \(ProgressLine.grouped(count)) records to \(output!)") }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count memories per persona and slice.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let runtime = try await global.memoryRuntime()
            let stats = try await runtime.stats()
            if json {
                var object = JSONView.stats(stats)
                if let tier = await runtime.hotTier(), case .object(var o) = object {
                    o["hot_tier"] = HotTierText.json(await tier.stats())
                    object = .object(o)
                }
                Output.json(object)
                return
            }
            let owners = Array(Set(stats.buckets.map(\.owner))).sorted()
            let rows = owners.map { owner in
                [owner] + SliceKind.allCases.map { slice in
                    String(stats.buckets.first { $0.owner == owner && $0.slice == slice }?.count ?? 0)
                } + [String(stats.buckets.filter { $0.owner == owner }.reduce(0) { $0 + $1.count })]
            }
            Output.stdout(Table.render(header: ["OWNER"] + SliceKind.allCases.map { $0.rawValue.uppercased() } + ["TOTAL"], rows: rows))
            if let model = runtime.embedderChoice.modelID, let missing = try await runtime.recordsWithoutVector() {
                Output.stdout("\nvectors: \(ProgressLine.grouped(stats.total - missing)) of \(ProgressLine.grouped(stats.total)) records embedded with \(model)"
                    + (missing > 0 ? " (run `troupe memory reembed` for the other \(ProgressLine.grouped(missing)))" : ""))
            }
            if let tier = await runtime.hotTier() { Output.stdout("\n" + HotTierText.summary(await tier.stats())) }
            Output.stdout("""

                \(ProgressLine.grouped(stats.total)) current records, \(ProgressLine.grouped(stats.supersededVersions)) superseded versions, \
                \(stats.forgotten) forgotten; \(ByteCount.format(stats.bytesOnDisk ?? 0)) on disk at \(runtime.storePath) \
                (schema \(stats.schemaVersion ?? "?"))
                """)
        }
    }
}

/// Buffered output to stdout or a file.
final class OutputSink {
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer = Data()

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TroupeError(.invalidInput, "cannot create file", context: path)
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            ownsHandle = true
        } else {
            handle = .standardOutput
            ownsHandle = false
        }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if ownsHandle { try handle.close() }
    }
}
