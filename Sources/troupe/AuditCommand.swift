import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeStore

/// `troupe audit`: how stale writes to shared slices were resolved.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show how conflicting writes to shared slices were resolved, newest first.",
        discussion: "One line per stale write: who wrote, which version it was based on, the policy and what was kept.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this shared slice.") var slice: String?
    @Option(help: "Only this record.") var record: String?
    @Option(help: "At most this many lines.") var limit: Int = 50
    @Flag(help: "Print JSON (one array).") var json = false

    func validate() throws {
        try FlagRange.check(limit, RuntimeConfig.limitRange, "--limit")
    }

    func run() async throws {
        let runtime = try await global.memoryRuntime()
        var query = AuditQuery(record: record, limit: limit)
        if let slice { query.slice = try runtime.sharedSlice(slice).name }
        let entries = try await runtime.audit(query)
        if json {
            Output.json(.array(entries.map(JSONView.audit)))
            return
        }
        guard !entries.isEmpty else {
            Output.stdout("no conflicts" + (slice.map { " in \($0)" } ?? "") + (record.map { " on \($0)" } ?? ""))
            return
        }
        Output.stdout(Table.render(
            header: ["#", "AT", "SLICE", "RECORD", "WRITER", "BASE→CURRENT", "POLICY", "OUTCOME", "KEPT", "NOT KEPT"],
            rows: entries.map { e in
                [
                    String(e.seq), Timestamp.format(e.at), e.slice.rawValue, e.record, e.writer, "v\(e.baseVersion)→v\(e.currentVersion)",
                    e.policy.rawValue, e.outcome.rawValue, e.kept.joined(separator: " "), e.superseded.joined(separator: " "),
                ]
            }))
    }
}
