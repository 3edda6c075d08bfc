import Foundation
import TroupeCore
import TroupeStore
import TroupeVault

/// Vaults for tests: real ones (a master key file, a keyring), in a directory of their own.
public enum TestVault {
    /// A new vault in `directory`/vault, with a new master key in its key file.
    public static func make(in directory: URL) throws -> Vault {
        let vault = directory.appendingPathComponent("vault")
        return try Vault.create(directory: vault, source: .file(vault.appendingPathComponent("master.key")))
    }
}

extension TestVault {
    /// What opens the store of `home` as its runtime would: the home's vault (its key file)
    /// when it has one, else nothing sealing.
    public static func sealer(home: URL) throws -> any RecordSealer {
        guard Vault.exists(home: home) else { return PlainSealer() }
        return try Vault(directory: Vault.directory(home: home), source: .file(Vault.keyFile(home: home)))
    }
}

extension TestVault {
    /// ``make(in:)`` off the cooperative pool: making a vault writes and syncs its files.
    public static func made(in directory: URL) async throws -> Vault {
        try await offThePool("troupe-test.vault.make") { try make(in: directory) }
    }
}
