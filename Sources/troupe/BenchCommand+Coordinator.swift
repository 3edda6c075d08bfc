import ArgumentParser
import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeBenchmarks
import TroupeRuntime
import TroupeStore

extension BenchCommand {
    struct CoordinatorBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coordinator", abstract: "Shared-slice writes under concurrency, and batched recall for eight personas.",
            discussion: """
                By default in a temporary home of 32 personas sharing one slice. With --slice, the writers are the
                members of that shared slice of the home given by --home/--config, writing over its current records:
                several processes can run at once against one home.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Concurrent writers for each run (comma-separated).") var writers = "1,8,32"
        @Option(help: "Writes per writer.") var writes = 200
        @Option(help: "Shared records the writers share (temporary home only).") var records = 8
        @Option(help: "The shared slice's conflict policy (temporary home only).") var policy = "last-writer-wins"
        @Option(help: "Memories per persona for the recall rounds (0 skips them; temporary home only).") var recallMemories = 5000
        @Option(help: "Recall rounds.") var rounds = 200
        @Flag(help: "Embed each written value too (the model then dominates; bench retrieval measures it).") var embed = false
        @Option(help: ArgumentHelp("Write into this shared slice of the given home instead.", valueName: "name")) var slice: String?
        @Option(help: ArgumentHelp("With --slice: start writing at this time (milliseconds since 1970), to line up several processes.", valueName: "ms"))
        var startAt: Int64?
        @Flag(help: "Print one JSON object per line.") var json = false

        var writerCounts: [Int] { writers.split(separator: ",").compactMap { Int($0) } }

        func validate() throws {
            try FlagRange.check(list: writers, 1...1024, "--writers")
            try FlagRange.check(writes, FlagRange.count, "--writes")
            try FlagRange.check(records, 1...100_000, "--records")
            try FlagRange.check(rounds, FlagRange.count, "--rounds")
            try FlagRange.check(recallMemories, 0...1_000_000, "--recall-memories")
            try FlagRange.check(startAt, 0...Int64.max / 2, "--start-at")
            guard ConflictPolicy(rawValue: policy) != nil else {
                throw ValidationError("--policy: one of \(ConflictPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            if let slice { return try await runInHome(slice) }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = try CoordinatorBenchmark.home(in: directory, personas: 32, policy: ConflictPolicy(rawValue: policy)!)
            let workspace = try Runtime(configuration: configuration)
            let writing = try Runtime(configuration: configuration, embedsWrites: embed)
            defer { Task { [workspace, writing] in await workspace.shutdown(); await writing.shutdown() } }
            let names = workspace.personas.map(\.name)
            let coordinator = writing.coordinator
            let first = try await coordinator.persona(names[0].rawValue)
            var ids: [String] = []
            for i in 0..<records { ids.append(try await first.share("shared figure \(i)", in: "bench-shared").current.id) }
            if !json { Output.stdout("shared-slice writes (\(policy), \(records) records, SQLite synchronous=\(workspace.configuration.runtime.storage.synchronous.rawValue)\(embed ? ", values embedded" : ", values not embedded"))") }
            for count in writerCounts {
                Output.stderr("\(count) writer\(count == 1 ? "" : "s") × \(writes) writes")
                report(try await CoordinatorBenchmark.writes(coordinator: coordinator, personas: names, writers: count, writesPerWriter: writes, records: ids))
            }
            guard recallMemories > 0 else { return }
            guard let embedder = try await workspace.embedder()?.embedder else {
                Output.warning("no embedder: the recall rounds need one (run Scripts/setup)")
                return
            }
            let recalling = Array(names.prefix(8))
            Output.stderr("storing \(ProgressLine.grouped(recallMemories * 9)) memories for the recall rounds")
            try await CoordinatorBenchmark.fill(workspace.store, owners: recalling + ["bench-shared"], perOwner: recallMemories, embedder: embedder)
            let reader = workspace.coordinator
            var personas: [PersonaActor] = []
            for name in recalling { personas.append(try await reader.persona(name.rawValue)) }
            let r = try await CoordinatorBenchmark.recalls(coordinator: reader, recaller: try await workspace.recaller(), personas: personas, rounds: rounds) {
                Output.stderr($0)
            }
            if json {
                Output.json(.object([
                    "kind": .string("recall_round"), "personas": .number(8), "memories": .number(Double(recallMemories * 9)),
                    "model": .string(embedder.modelID), "batched_p50_ms": .number(r.batched.p50 * 1000), "batched_p99_ms": .number(r.batched.p99 * 1000),
                    "single_p50_ms": .number(r.single.p50 * 1000), "single_p99_ms": .number(r.single.p99 * 1000),
                    "batches": .number(Double(r.batches)), "rounds": .number(Double(rounds)),
                ]))
            } else {
                Output.stdout(String(
                    format: "recall round, 8 personas (%@ memories, %@): batched p50 %.2f ms p99 %.2f ms; one by one p50 %.2f ms p99 %.2f ms; %.1f× faster batched (%d batches for %d rounds)",
                    ProgressLine.grouped(recallMemories * 9), embedder.modelID, r.batched.p50 * 1000, r.batched.p99 * 1000, r.single.p50 * 1000,
                    r.single.p99 * 1000, r.single.p50 / r.batched.p50, r.batches, rounds))
            }
        }

        /// Writers from the slice's members, over its current records, in a home shared with others.
        private func runInHome(_ slice: String) async throws {
            let workspace = try await global.memoryRuntime()
            let shared = try workspace.sharedSlice(slice)
            let writing = try Runtime(configuration: workspace.configuration, embedsWrites: embed)
            defer { Task { await writing.shutdown() } }
            var ids: [String] = []
            _ = try await workspace.export(MemoryQuery(owners: [shared.name])) { line in
                if case .object(let fields) = try JSONValue.parse(Array(line.utf8)), case .string(let id) = fields["id"] { ids.append(id) }
            }
            guard !ids.isEmpty else { throw TroupeError(.invalidInput, "shared slice '\(slice)' holds no records to write over; add some first") }
            if let startAt {
                let wait = Double(startAt) / 1000 - Date().timeIntervalSince1970
                if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            }
            for count in writerCounts {
                report(try await CoordinatorBenchmark.writes(
                    coordinator: writing.coordinator, personas: shared.members, writers: count, writesPerWriter: writes, records: ids,
                    label: "process \(getpid()) run \(count)"))
            }
        }

        private func report(_ w: CoordinatorBenchmark.Writes) {
            if json {
                Output.json(w.json)
                return
            }
            Output.stdout(String(
                format: "  %2d writer%@: %6.0f writes/s, p50 %.2f ms, p99 %.2f ms; conflicts %.1f%% (%d), resolution p99 %.2f ms; %d commits (%.1f writes each)",
                w.writers, w.writers == 1 ? " " : "s", w.throughput, w.latency.p50 * 1000, w.latency.p99 * 1000,
                100 * Double(w.conflicts) / Double(max(w.writes, 1)), w.conflicts, w.resolution.p99 * 1000, w.commits,
                Double(w.writes) / Double(max(w.commits, 1))))
        }
    }
}
