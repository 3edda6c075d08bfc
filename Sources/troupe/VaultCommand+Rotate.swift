import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeVault

extension VaultCommand {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate the master key (re-wrapping the data keys) or data keys (sealing values again).",
            discussion: """
                --master makes a new master key and re-wraps every data key with it; no memory is touched. With the key in
                vault/master.key the new one replaces it there; with storage.vault_key_env, give the new key in the variable
                --new-key-env names and put it in place of the old one afterwards.
                --data gives each persona and shared slice (or only --persona's) a new data key and seals their values again
                in committed batches; if the run is killed, run it again and it goes on. It ends by opening every sealed value.
                Old data keys stay in the keyring (retired) so that backups made before still open.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Rotate the master key.") var master = false
        @Flag(help: "Rotate data keys.") var data = false
        @Option(help: "With --data: only this persona's (or shared slice's) key.") var persona: String?
        @Option(help: "With --master: the variable holding the new master key (base64, 32 bytes).") var newKeyEnv: String?
        @Option(help: "Rows per committed batch.") var batchSize = 500
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard master != data else { throw ValidationError("give one of --master and --data") }
            if persona != nil, !data { throw ValidationError("--persona goes with --data") }
            if newKeyEnv != nil, !master { throw ValidationError("--new-key-env goes with --master") }
            try FlagRange.check(batchSize, 1...100_000, "--batch-size")
        }

        func run() async throws {
            let runtime = try await global.runtime()
            guard let vault = runtime.vault else { throw TroupeError(.invalidInput, "the home is not encrypted (`troupe vault init` encrypts it)") }
            if master {
                let storage = runtime.configuration.runtime.storage
                let source = Runtime.masterKeySource(storage, home: runtime.configuration.location.home)
                let newKey: MasterKey
                if let newKeyEnv {
                    newKey = try MasterKeySource.environment(newKeyEnv).load()
                } else if case .file = source {
                    newKey = .generate()
                } else {
                    throw ValidationError("the master key comes from \(source): give the new one with --new-key-env")
                }
                try vault.rotateMaster(to: newKey, source: newKeyEnv == nil ? source : .environment(newKeyEnv!))
                if json { Output.json(.object(["master_fingerprint": .string(newKey.fingerprint)])) } else {
                    Output.stdout("the data keys are wrapped by the new master key (fingerprint \(newKey.fingerprint))")
                    if newKeyEnv != nil { Output.stdout("put the new key where \(source) reads it before the next start") }
                }
                return
            }
            if let persona, let problem = PersonaID.problem(with: persona) { throw ValidationError("--persona '\(persona)': \(problem)") }
            let bar = VaultProgress()
            let report = try await runtime.rotateDataKeys(owners: persona.map { [$0] }, batch: batchSize) { rows, resealed in
                bar.show("\(ProgressLine.grouped(rows)) rows read, \(ProgressLine.grouped(resealed)) values sealed again")
            }
            bar.finish()
            if json {
                Output.json(.object([
                    "owners": .array(report.owners.map(JSONValue.string)), "resumed": .bool(report.resumed), "rows": .number(Double(report.rows)),
                    "resealed": .number(Double(report.resealed)), "verified": .number(Double(report.verified)),
                ]))
                return
            }
            Output.stdout("\(report.resumed ? "finished rotating" : "rotated") the data keys of \(report.owners.joined(separator: ", ")): \(report.resealed) values sealed again, \(report.verified) checked")
        }
    }
}
