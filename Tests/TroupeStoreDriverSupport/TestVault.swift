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
