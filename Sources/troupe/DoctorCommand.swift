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
        subcommands: [Store.self])

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
}
