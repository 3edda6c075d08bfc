import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Add, recall, import, export and inspect memories.",
        subcommands: [Add.self, Recall.self, Import.self, Export.self, Stats.self, History.self, Forget.self, Reembed.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a memory to one of a persona's slices.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Whose memory.") var persona: String
        @Option(help: "working, episodic, semantic or procedural.") var slice: SliceKind
        @Option(help: "How much it matters, 0 to 1.") var importance: Double = 0.5
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Flag(help: "Print the stored record as JSON.") var json = false
        @Argument(help: "The memory's text.") var text: String

        func validate() throws {
            guard (0...1).contains(importance) else { throw ValidationError("--importance must be between 0 and 1") }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the text is empty") }
        }

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            let persona = try workspace.persona(persona)
            let record = try await workspace.remember(persona: persona, slice: slice, content: text, importance: importance, tags: tags, source: "cli")
            if json { Output.json(JSONView.record(record)) } else { Output.stdout("added \(record.id) to \(record.owner)/\(record.slice.rawValue)") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write memories as JSONL (re-importable), in a stable order.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this persona's (or shared slice's) memories.") var persona: String?
        @Option(help: "Only this slice (repeatable).") var slice: [SliceKind] = []
        @Option(name: [.short, .long], help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            var query = MemoryQuery(slices: slice.isEmpty ? nil : slice)
            if let persona { query.owners = [try workspace.owner(persona)] }
            let sink = try OutputSink(path: output)
            let count = try await MemoryExporter(store: workspace.store).export(query) { try sink.write($0) }
            try sink.close()
            if output != nil { Output.stderr("exported \(ProgressLine.grouped(count)) records to \(output!)") }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count memories per persona and slice.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            let stats = try await workspace.store.stats()
            if json {
                Output.json(JSONView.stats(stats))
                return
            }
            let owners = Array(Set(stats.buckets.map(\.owner))).sorted()
            let rows = owners.map { owner in
                [owner] + SliceKind.allCases.map { slice in
                    String(stats.buckets.first { $0.owner == owner && $0.slice == slice }?.count ?? 0)
                } + [String(stats.buckets.filter { $0.owner == owner }.reduce(0) { $0 + $1.count })]
            }
            Output.stdout(Table.render(header: ["OWNER"] + SliceKind.allCases.map { $0.rawValue.uppercased() } + ["TOTAL"], rows: rows))
            if let model = workspace.embedderChoice.modelID {
                let missing = try await workspace.store.countWithoutVector(model: model)
                Output.stdout("\nvectors: \(ProgressLine.grouped(stats.total - missing)) of \(ProgressLine.grouped(stats.total)) records embedded with \(model)"
                    + (missing > 0 ? " (run `troupe memory reembed` for the other \(ProgressLine.grouped(missing)))" : ""))
            }
            Output.stdout("""

                \(ProgressLine.grouped(stats.total)) current records, \(ProgressLine.grouped(stats.supersededVersions)) superseded versions, \
                \(stats.forgotten) forgotten; \(ByteCount.format(stats.bytesOnDisk ?? 0)) on disk at \(workspace.store.path) \
                (schema \(stats.schemaVersion ?? "?"))
                """)
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every version of a memory and who wrote it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            let history = try await workspace.store.history(id)
            if json {
                var o: [String: JSONValue] = ["id": .string(id), "versions": .array(history.versions.map(JSONView.record))]
                if let receipt = history.forgotten { o["forgotten"] = JSONView.receipt(receipt) }
                Output.json(.object(o))
                return
            }
            if let r = history.forgotten {
                Output.stdout("\(id) was forgotten at \(Timestamp.format(r.forgottenAt)): \(r.versions) version\(r.versions == 1 ? "" : "s") of \(r.owner)/\(r.slice) removed" + (r.reason.map { " (\($0))" } ?? ""))
                return
            }
            for v in history.versions {
                let span = "\(Timestamp.format(v.validFrom)) → \(v.validTo.map(Timestamp.format) ?? "current")"
                Output.stdout("v\(v.version)  \(span)  by \(v.source)  importance \(JSONValue.formatNumber(v.importance))")
                Output.stdout("    \(v.content.replacingOccurrences(of: "\n", with: "\n    "))")
            }
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a memory and all its versions for good.",
            discussion: "The content is deleted (and overwritten on disk); an audit line without the content remains.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id.") var id: String
        @Option(help: "Why, for the audit line.") var reason: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            let receipt = try await workspace.store.forget(id, reason: reason, at: workspace.clock.now())
            if json { Output.json(JSONView.receipt(receipt)) } else {
                Output.stdout("forgot \(id): \(receipt.versions) version\(receipt.versions == 1 ? "" : "s") removed from \(receipt.owner)/\(receipt.slice)")
            }
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
