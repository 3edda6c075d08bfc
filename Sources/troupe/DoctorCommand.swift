import ArgumentParser
import Foundation
import TroupeRuntime

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check the set-up and explain what is missing.",
        discussion: "Reports the config and persona files in use, the store and its counts, and which of redis-server, BLAS and the embedding model are present. Exits 1 when a check fails.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let report = await Doctor.run(configFlag: global.config, homeFlag: global.home)
        if json {
            Output.json(JSONView.doctor(report))
        } else {
            let marks: [DoctorReport.Status: String] = [.ok: "ok  ", .warning: "warn", .error: "FAIL"]
            for check in report.checks {
                Output.stdout("[\(marks[check.status]!)] \(check.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(check.detail)")
                for note in check.notes { Output.stdout("       \(note)") }
            }
            if let stats = report.stats, !stats.buckets.isEmpty {
                Output.stdout("\nrecords per persona and slice:")
                for bucket in stats.buckets {
                    Output.stdout("  \(bucket.owner.padding(toLength: 16, withPad: " ", startingAt: 0)) \(bucket.slice.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(ProgressLine.grouped(bucket.count))")
                }
            }
        }
        if report.worst == .error { throw ExitCode(1) }
    }
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure Troupe on this machine (prints figures).",
        subcommands: [Store.self, Quality.self])

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import throughput, put and lexical recall latency, size and peak memory of the SQLite store.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Records to import.") var records = 100_000
        @Option(help: "Single puts to time.") var puts = 2000
        @Option(help: "Recalls to time.") var recalls = 1000
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let result = try await StoreBenchmark(records: records, puts: puts, recalls: recalls).run { Output.stderr($0) }
            if json { Output.json(result.json) } else { Output.stdout(result.text) }
        }
    }

    struct Quality: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall@5/@10 of lexical, dense and hybrid rankings on the retrieval-quality set.")
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Folder with memories.jsonl and questions.jsonl.", valueName: "dir"))
        var data = "Tests/TroupeRetrievalTests/Quality"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let workspace = try global.workspace()
            if let warning = workspace.embedderChoice.warning { Output.warning(warning) }
            let folder = URL(fileURLWithPath: data)
            let personas = Dictionary(uniqueKeysWithValues: workspace.personas.map { ($0.name.rawValue, workspace.readableOwners(of: $0)) })
            let embedder = try workspace.embedder()
            let benchmark = QualityBenchmark(
                memories: folder.appendingPathComponent("memories.jsonl"), questions: folder.appendingPathComponent("questions.jsonl"),
                embedder: embedder, knownOwners: workspace.knownOwners, readable: { personas[$0] ?? [] })
            let rows = try await benchmark.run(variants: QualityBenchmark.variants(defaults: workspace.recallWeights)) { Output.stderr($0) }
            if json {
                for row in rows {
                    Output.json(.object([
                        "ranking": .string(row.variant), "kind": .string(row.kind), "questions": .number(Double(row.questions)),
                        "recall_at_5": .number(row.recallAt5), "recall_at_10": .number(row.recallAt10), "mrr": .number(row.mrr),
                    ]))
                }
            } else {
                Output.stdout(QualityBenchmark.table(rows, model: embedder?.modelID))
            }
        }
    }
}
