import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeStore

/// `troupe migrate`: copies a whole store into another (SQLite ↔ PostgreSQL), then verifies it.
/// Operator plumbing on the stores themselves, not through the service layer.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Copy every memory, version, vector, history, forget receipt, audit line, queued formation job, API key and security log line into another store.",
        discussion: """
            Stores are sqlite:PATH or postgres://user@host:port/db (a unix socket: postgres://user@%2Frun%2Fpostgresql/db).
            The source is the configured store unless --from names one. Rows go in committed batches, in key order; after
            a kill, running the same command again goes on where it stopped. The copy ends with a verification (per owner
            and slice: counts and a content hash) and exits 1 if anything differs. Point storage.backend and storage.url at
            the target afterwards.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The store to copy from (default: the configured one).", valueName: "store")) var from: String?
    @Option(help: ArgumentHelp("The store to copy into; it must be empty, or a copy of the same source under way.", valueName: "store"))
    var to: String
    @Option(help: "The schema on the PostgreSQL side (default: the server's, public).") var schema: String?
    @Option(help: "The environment variable holding the PostgreSQL password.") var passwordEnv: String?
    @Option(help: "Rows per committed batch.") var batchSize = 1000
    @Flag(help: "Only compare the two stores.") var verifyOnly = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try FlagRange.check(batchSize, 1...100_000, "--batch-size") }

    func run() async throws {
        let configuration = try Configuration.load(configFlag: global.config, homeFlag: global.home)
        let source = try Runtime.migrationEndpoint(from, configuration: configuration, schema: schema, passwordEnv: passwordEnv)
        let target = try Runtime.migrationEndpoint(to, configuration: configuration, schema: schema, passwordEnv: passwordEnv)
        guard source.migrationName != target.migrationName else { throw ValidationError("--from and --to name the same store") }
        var migration = StoreMigration(from: source, to: target)
        migration.batch = batchSize
        let started = Date()
        var landed: [MigrationTable: Int] = [:]
        if !verifyOnly {
            // A bar on a terminal; elsewhere one line per table when it is done.
            let bar: ProgressBar? = Output.stderrIsTerminal && !json ? ProgressBar() : nil
            var table: MigrationTable?
            landed = try await migration.run { p in
                if table != p.table, table != nil { bar?.finish() }
                table = p.table
                let line = {
                    ProgressLine.render(
                        fraction: p.total == 0 ? 1 : Double(p.done) / Double(p.total), count: p.done, noun: p.table.rawValue,
                        elapsed: Date().timeIntervalSince(started))
                }
                if let bar { bar.show(elapsed: Date().timeIntervalSince(started), done: p.done >= p.total, line) }
                else if !json, p.done >= p.total { Output.stderr(line()) }
            }
            bar?.finish()
        }
        let copied = Date().timeIntervalSince(started)
        let checks = try await migration.verify()
        let differing = checks.filter { !$0.matches }
        if json {
            Output.json(.object([
                "from": .string(source.migrationName), "to": .string(target.migrationName), "seconds": .number(copied),
                "landed": .object(Dictionary(uniqueKeysWithValues: landed.map { ($0.key.rawValue, JSONValue.number(Double($0.value))) })),
                "checks": .array(checks.map { c in
                    .object([
                        "table": .string(c.table.rawValue), "scope": .string(c.scope), "source_count": .number(Double(c.source.count)),
                        "target_count": .number(Double(c.target.count)), "source_hash": .string(c.source.hex), "target_hash": .string(c.target.hex),
                        "matches": .bool(c.matches),
                    ])
                }),
                "verified": .bool(differing.isEmpty),
            ]))
        } else {
            let records = landed[.records] ?? 0
            if !verifyOnly {
                Output.stdout(String(format: "copied %@ → %@ in %.1fs (%@ records landed, %.0f records/s)", source.migrationName, target.migrationName,
                                     copied, ProgressLine.grouped(records), Double(records) / max(copied, 0.001)))
            }
            Output.stdout(Table.render(
                header: ["TABLE", "OWNER/SLICE", "SOURCE", "TARGET", "HASH", ""],
                rows: checks.map { c in
                    [c.table.rawValue, c.scope, String(c.source.count), String(c.target.count), c.source.hex, c.matches ? "same" : "DIFFERS (\(c.target.hex))"]
                }))
            Output.stdout(differing.isEmpty
                ? "verified: both stores hold the same \(checks.count) groups of rows"
                : "NOT verified: \(differing.count) of \(checks.count) groups differ")
        }
        if !differing.isEmpty { throw ExitCode(1) }
    }
}
