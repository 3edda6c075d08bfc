import Foundation
import Testing
import TroupeCore
import TroupeSQLite
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport
import TroupeVault

/// The vault's keys: a wrong or missing master key is named, never garbage; a value opens only
/// in its own place; processes agree on one key per owner; shredding and rotation.
@Suite("Vault keys")
struct VaultKeyTests {
    let place = SealedPlace(owner: "athena", record: "r1", version: 1, field: .content)

    @Test func aWrongMasterKeyIsNamedByItsFingerprint() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let other = MasterKey.generate()
        let error = #expect(throws: TroupeError.self) {
            try Vault(directory: vault.directory, source: .environment("KEY"), environment: ["KEY": other.base64])
        }
        #expect(error?.message.contains("fingerprint \(other.fingerprint)") == true)
        #expect(error?.message.contains("the variable KEY") == true)
    }

    @Test func aMissingOrLooseKeyFileIsNamed() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let keyFile = vault.directory.appendingPathComponent("master.key")
        chmod(keyFile.path, 0o644)
        let loose = #expect(throws: TroupeError.self) { try Vault(directory: vault.directory, source: .file(keyFile)) }
        #expect(loose?.message.contains("can be read by others") == true && loose?.context == keyFile.path)
        try FileManager.default.removeItem(at: keyFile)
        let missing = #expect(throws: TroupeError.self) { try Vault(directory: vault.directory, source: .file(keyFile)) }
        #expect(missing?.message.contains("master key is missing") == true && missing?.context == keyFile.path)
        let malformed = #expect(throws: TroupeError.self) {
            try Vault(directory: vault.directory, source: .environment("KEY"), environment: ["KEY": "not a key"])
        }
        #expect(malformed?.message.contains("not 32 bytes in base64") == true)
    }

    @Test func aValueOpensOnlyInItsOwnPlace() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let sealed = try vault.seal(Array("PAPAYAFLAMINGO".utf8), at: place)
        #expect(try vault.open(sealed, at: place) == Array("PAPAYAFLAMINGO".utf8))
        // Magic (4), key id (8), nonce (12), the 14 bytes, tag (16).
        #expect(sealed.count == 54)
        for moved in [
            SealedPlace(owner: "athena", record: "r2", version: 1, field: .content),
            SealedPlace(owner: "athena", record: "r1", version: 2, field: .content),
            SealedPlace(owner: "athena", record: "r1", version: 1, field: .tags),
        ] {
            let error = #expect(throws: TroupeError.self) { try vault.open(sealed, at: moved) }
            #expect(error?.message.contains("does not open with its key") == true)
        }
        var flipped = sealed
        flipped[flipped.count - 20] ^= 1
        #expect(throws: TroupeError.self) { try vault.open(flipped, at: self.place) }
        let plain = #expect(throws: TroupeError.self) { try vault.open(Array("plain words here, long enough to pass".utf8), at: self.place) }
        #expect(plain?.message.contains("is not sealed by the vault") == true)
    }

    @Test func twoProcessesMakingAnOwnersFirstKeyAgreeOnOne() async throws {
        let directory = try TemporaryDirectory()
        let first = try await TestVault.made(in: directory.url)
        // A second process's vault: its own instance over the same files.
        let second = try Vault(directory: first.directory, source: .file(first.directory.appendingPathComponent("master.key")))
        let owners = (0..<20).map { "owner\($0)" }
        let sealed = try await withThrowingTaskGroup(of: (Int, String, [UInt8]).self) { group in
            for (n, vault) in [first, second].enumerated() {
                for owner in owners {
                    group.addTask {
                        try await offThePool("troupe-test.vault.seal") {
                            (n, owner, try vault.seal(Array(owner.utf8), at: SealedPlace(owner: owner, record: "r", field: .content)))
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (n, owner, value) in sealed {
            let reader = n == 0 ? second : first
            #expect(try reader.open(value, at: SealedPlace(owner: owner, record: "r", field: .content)) == Array(owner.utf8))
        }
        let keys = try first.status().keys
        #expect(keys.count == owners.count && Set(keys.map(\.owner)) == Set(owners))
    }

    @Test func aShreddedOwnerCannotBeReadInAnyCopyAndOthersCan() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let path = directory.file("memory.sqlite").path
        let store = try await TestSQLite.open(path, sealer: vault)
        try await store.put(record("a1", content: "athena's secret plan"), vector: nil)
        try await store.put(record("h1", "hestia", content: "hestia's checklist"), vector: nil)
        // A backup of the store taken before the shredding.
        let backup = directory.file("backup.sqlite").path
        try await store.copy(to: backup)
        let athenas = SealedPlace(owner: "athena", record: "x", field: .content)
        let early: [UInt8]? = try vault.seal([1, 2, 3], at: athenas)
        #expect(try vault.shred(owner: "athena").count == 1)
        let copy = try await TestSQLite.open(backup, sealer: try Vault(directory: vault.directory, source: .file(vault.directory.appendingPathComponent("master.key"))))
        // Athena's record reads as gone in the copy (her key is), hestia's as it was.
        #expect(try await copy.get("a1") == nil)
        #expect(try await copy.query(MemoryQuery()).map(\.id) == ["h1"])
        #expect(try await copy.get("h1")?.content == "hestia's checklist")
        // Written again (a persona's seeds come back from its definition), the record is new:
        // the unreadable one's remains are removed with a receipt.
        let again = try await copy.upsert([record("a1", content: "athena's new plan")], vectors: [:], writer: "athena", at: t0)
        let renewed = try await copy.get("a1")
        #expect(again.summary.inserted == 1 && renewed?.content == "athena's new plan")
        let history = try await copy.history("a1")
        #expect(history.versions.map(\.content) == ["athena's new plan"])
        // A value sealed before, opened now: the error names the owner and the key.
        let shredded = try #require(early)
        let error = #expect(throws: ShreddedKey.self) { try vault.open(shredded, at: athenas) }
        #expect(error?.owner == "athena" && error?.description.contains("was shredded") == true)
        #expect(try vault.status().keys.first { $0.owner == "athena" }?.state == "shredded")
    }

    @Test func aMasterRotationStoppedBeforeTheNewKeyIsInPlaceIsFinishedOnOpen() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await TestVault.made(in: directory.url)
        let keyFile = vault.directory.appendingPathComponent("master.key")
        let sealed = try vault.seal(Array("before".utf8), at: place)
        let oldKey = try Data(contentsOf: keyFile)
        let newKey = MasterKey.generate()
        try vault.rotateMaster(to: newKey, source: .file(keyFile))
        #expect(try MasterKeySource.file(keyFile).load().fingerprint == newKey.fingerprint)
        // As if killed between the keyring's write and the key file's rename: the old key still
        // in master.key, the new one beside it.
        try FileManager.default.moveItem(at: keyFile, to: keyFile.appendingPathExtension("next"))
        try oldKey.write(to: keyFile)
        chmod(keyFile.path, 0o600)
        let reopened = try Vault(directory: vault.directory, source: .file(keyFile))
        #expect(try reopened.open(sealed, at: place) == Array("before".utf8))
        #expect(try MasterKeySource.file(keyFile).load().fingerprint == newKey.fingerprint)
    }
}
