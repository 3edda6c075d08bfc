import ArgumentParser
import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeRuntime
import TroupeService

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check the set-up and explain what is missing.",
        discussion: "Reports the config and persona files in use, the store and its counts, and which of redis-server, BLAS and the embedding model are present. Exits 1 when a check fails.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let report = try await TroupeService.doctor(configFlag: global.config, homeFlag: global.home, .local)
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
