import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

/// `troupe audit`: how stale writes to shared slices were resolved; with `--security`, the
/// security log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show how conflicting writes to shared slices were resolved, or the security log; newest first.",
        discussion: """
            One line per stale write: who wrote, which version it was based on, the policy and what was kept. \
            With --security: one line per failed authentication, denied request, caller held back by its rate \
            limit, and key created or revoked.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this shared slice.") var slice: String?
    @Option(help: "Only this record.") var record: String?
    @Flag(help: "Show the security log instead.") var security = false
    @Option(help: "With --security: only this kind (auth-failed, denied, rate-limited, key-created, key-revoked).")
    var kind: SecurityEvent.Kind?
    @Option(help: "With --security: only this key.") var key: String?
    @Option(help: "At most this many lines.") var limit: Int = 50
    @Flag(help: "Print JSON (one array).") var json = false

    func validate() throws {
        try FlagRange.check(limit, RuntimeConfig.limitRange, "--limit")
        if security, slice != nil || record != nil { throw ValidationError("--slice and --record are for conflicts, not with --security") }
        if !security, kind != nil || key != nil { throw ValidationError("--kind and --key need --security") }
    }

    func run() async throws {
        if security { return try await showSecurityLog() }
        let entries = try await global.service().audit(slice: slice, record: record, limit: limit, .local)
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

    func showSecurityLog() async throws {
        let query = SecurityEventQuery(kinds: kind.map { [$0] }, keyID: key, limit: limit)
        let events = try await global.service().securityEvents(query, .local)
        if json { return Output.json(.array(events.map(JSONView.securityEvent))) }
        guard !events.isEmpty else { return Output.stdout("the security log is empty" + (kind.map { " of \($0.rawValue)" } ?? "")) }
        Output.stdout(Table.render(
            header: ["#", "AT", "KIND", "KEY", "SOURCE", "DETAIL"],
            rows: events.map { [String($0.seq), Timestamp.format($0.at), $0.kind.rawValue, $0.keyID ?? "-", $0.source, $0.detail] }))
    }
}

extension SecurityEvent.Kind: ExpressibleByArgument {}
