import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeVault

/// `troupe vault`: encryption at rest for a home's memory. Operator plumbing on the store and
/// its keys, like `migrate`; `troupe keys` stays the server's API keys.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault", abstract: "Encrypt a home's memory at rest, and rotate or check its keys.",
        discussion: """
            Every value the store holds of a memory (content, tags, metadata, vector, history, lost values, queued words)
            is sealed with AES-256-GCM under a data key of its persona or shared slice; the data keys sit in the home's
            vault/keyring.json, wrapped by a master key: vault/master.key (mode 0600), or the variable or command that
            storage.vault_key_env / storage.vault_key_command name. Keep the master key apart from backups of the home.
            `troupe memory forget --persona P --shred` destroys a persona's keys.
            """,
        subcommands: [Init.self, Status.self, Rotate.self, Verify.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypt the home: make its vault and seal everything its store holds, in place.",
            discussion: """
                Stop the home's other troupe processes first. Values are sealed in committed batches; if the run is killed,
                run it again and it goes on where it stopped (until it finishes, the home refuses to open). Ends by opening
                every sealed value. New homes are made encrypted with `storage.encrypt: true`.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Rows per committed batch.") var batchSize = 500
        @Flag(help: "Print JSON.") var json = false

        func validate() throws { try FlagRange.check(batchSize, 1...100_000, "--batch-size") }

        func run() async throws {
            let configuration = try Configuration.load(configFlag: global.config, homeFlag: global.home)
            let bar = VaultProgress()
            let report = try await Runtime.initializeVault(configuration, batch: batchSize) { rows, sealed in
                bar.show("\(ProgressLine.grouped(rows)) rows read, \(ProgressLine.grouped(sealed)) values sealed")
            }
            bar.finish()
            if json {
                Output.json(.object([
                    "vault": .string(report.directory), "master_key": .string(report.masterKey),
                    "master_fingerprint": .string(report.masterFingerprint), "resumed": .bool(report.resumed),
                    "rows": .number(Double(report.rows)), "sealed": .number(Double(report.sealed)), "verified": .number(Double(report.verified)),
                ]))
                return
            }
            Output.stdout("\(report.resumed ? "finished encrypting" : "encrypted") the home: \(report.sealed) values sealed in \(report.rows) rows, \(report.verified) checked")
            Output.stdout("vault: \(report.directory)")
            Output.stdout("master key: \(report.masterKey) (fingerprint \(report.masterFingerprint)); keep a copy apart from the home's backups")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the vault's master key fingerprint and data keys.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let runtime = try await global.runtime()
            guard let status = try runtime.vault?.status() else {
                if json { Output.json(.object(["encrypted": .bool(false)])) } else { Output.stdout("the home is not encrypted (`troupe vault init` encrypts it)") }
                return
            }
            if json { Output.json(VaultView.status(status)); return }
            Output.stdout("encrypted: vault \(status.directory), master key fingerprint \(status.masterFingerprint)")
            if let owners = status.rotating, let started = status.rotationStarted {
                Output.stdout("a data-key rotation of \(owners.joined(separator: ", ")) started \(Timestamp.format(started)) is unfinished: run `troupe vault rotate --data` to finish it")
            }
            for key in status.keys {
                let shredded = key.shredded.map { " at \(Timestamp.format($0))" } ?? ""
                Output.stdout("  \(key.id)  \(key.owner)  \(key.state)\(shredded)  since \(Timestamp.format(key.created))")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open every sealed value in the store and check it against its place.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let checked = try await global.runtime().verifySealed()
            if json { Output.json(.object(["verified": .number(Double(checked))])) } else { Output.stdout("\(checked) sealed values open with their keys") }
        }
    }
}

/// One progress line on a terminal's stderr; nothing otherwise.
final class VaultProgress: Sendable {
    private let bar: ProgressBar? = Output.stderrIsTerminal ? ProgressBar() : nil
    private let started = Date()

    func show(_ line: String) { bar?.show(elapsed: Date().timeIntervalSince(started), done: false) { line } }
    func finish() { bar?.finish() }
}

enum VaultView {
    static func status(_ s: VaultStatus) -> JSONValue {
        .object([
            "encrypted": .bool(true), "vault": .string(s.directory), "master_fingerprint": .string(s.masterFingerprint),
            "rotating": s.rotating.map { .array($0.map(JSONValue.string)) } ?? .null,
            "keys": .array(s.keys.map { key in
                .object([
                    "id": .string(key.id), "owner": .string(key.owner), "state": .string(key.state),
                    "created": .string(Timestamp.format(key.created)), "shredded": key.shredded.map { .string(Timestamp.format($0)) } ?? .null,
                ])
            }),
        ])
    }
}
