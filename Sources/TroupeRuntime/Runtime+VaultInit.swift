import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore
import TroupeVault

/// What `troupe vault init` did.
public struct VaultInitReport: Sendable, Hashable {
    public var directory: String
    public var masterKey: String
    public var masterFingerprint: String
    /// Whether it finished an encryption an earlier run left unfinished.
    public var resumed: Bool
    public var rows: Int
    public var sealed: Int
    public var verified: Int
}

extension Runtime {
    /// Encrypts the home of `configuration`: makes its vault (a keyring, and a master key in
    /// vault/master.key unless one is configured elsewhere) and seals every value its store
    /// holds in place, `batch` rows per committed transaction, then checks every one. A run
    /// killed half-way is taken up by running it again: until the last batch commits, the store
    /// says it is plain, and any process that opens the home is told to finish this first.
    /// Other processes of the home must be stopped while it runs.
    public static func initializeVault(
        _ configuration: Configuration, batch: Int = 500, environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: (Int, Int) -> Void = { _, _ in }
    ) async throws -> VaultInitReport {
        let home = configuration.location.home
        let storage = configuration.runtime.storage
        try HomeDirectory.prepare(home)
        let address = try storeAddress(storage, home: home, environment: environment)
        var options = StoreOptions(busyTimeout: storage.busyTimeout, connections: 2)
        let source = masterKeySource(storage, home: home)
        let directory = Vault.directory(home: home)
        let resumed = Vault.exists(home: home)
        if resumed {
            // A store that opens with the vault is encrypted already (an earlier run finished).
            options.sealer = try Vault(directory: directory, source: source, environment: environment)
            if (try? storeDrivers.open(address, options: options)) != nil {
                throw TroupeError(.duplicate, "the home is encrypted already (its vault: \(directory.path))")
            }
            options.sealer = PlainSealer()
        }
        let plain = try storeDrivers.open(address, options: options)
        guard let store = plain as? any ResealingStore else {
            throw TroupeError(.unavailable, "the store at \(plain.migrationName) cannot be encrypted in place")
        }
        let vault = resumed
            ? try Vault(directory: directory, source: source, environment: environment)
            : try Vault.create(directory: directory, source: source, environment: environment)
        if !resumed { try await store.setInfo(sealMarker, "") }
        var report = VaultInitReport(
            directory: directory.path, masterKey: source.description, masterFingerprint: try vault.status().masterFingerprint, resumed: resumed,
            rows: 0, sealed: 0, verified: 0)
        var batches = 0
        while true {
            let done = try await store.resealBatch(marker: sealMarker, limit: batch, from: PlainSealer(), to: vault)
            (report.rows, report.sealed, batches) = (report.rows + done.rows, report.sealed + done.resealed, batches + 1)
            progress(report.rows, report.sealed)
            Failpoint.hit("vault.init.batch-\(batches)")
            if done.finished { break }
        }
        try await store.setInfo("codec", vault.id)
        options.sealer = vault
        guard let sealed = try storeDrivers.open(address, options: options) as? any ResealingStore else {
            throw TroupeError(.storage, "the encrypted store cannot be opened again to check it")
        }
        report.verified = try await verifySealed(sealed, vault: vault, batch: batch)
        return report
    }

    static let sealMarker = "vault_seal"
}
