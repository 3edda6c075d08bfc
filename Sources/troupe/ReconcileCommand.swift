import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// `troupe reconcile`: compares the store with its mirror (`storage.mirror`) and repairs it.
/// Operator plumbing on the stores themselves, not through the service layer.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile", abstract: "Compare the store with its mirror (storage.mirror), and with --repair make the mirror equal.",
        discussion: "Exits 1 when the two differ and --repair was not given. The primary is only read.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Write what the mirror lacks or holds differently, and remove what it holds that the primary does not.") var repair = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let runtime = try await global.runtime()
        let mirror = try await runtime.configuredMirror()
        let differences = try await mirror.reconcile(repair: repair)
        let total = differences.reduce(0) { $0 + $1.total }
        if json {
            Output.json(.object([
                "primary": .string(mirror.primary.migrationName), "mirror": .string(mirror.mirror.migrationName),
                "repaired": .bool(repair && total > 0), "equal": .bool(total == 0),
                "tables": .array(differences.map { d in
                    .object([
                        "table": .string(d.table.rawValue), "missing": .number(Double(d.missing)), "differing": .number(Double(d.differing)),
                        "extra": .number(Double(d.extra)),
                    ])
                }),
            ]))
        } else {
            Output.stdout("primary \(mirror.primary.migrationName), mirror \(mirror.mirror.migrationName)")
            Output.stdout(Table.render(
                header: ["TABLE", "MISSING", "DIFFERING", "EXTRA"],
                rows: differences.map { [$0.table.rawValue, String($0.missing), String($0.differing), String($0.extra)] }))
            Output.stdout(total == 0 ? "the mirror equals the primary"
                : repair ? "repaired \(total) rows: the mirror now equals the primary" : "\(total) rows differ; run with --repair to fix the mirror")
        }
        if total > 0 && !repair { throw ExitCode(1) }
    }
}
