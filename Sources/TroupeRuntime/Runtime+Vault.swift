import Foundation
import TroupeCore
import TroupeStore
import TroupeVault

/// What a data-key rotation did (`troupe vault rotate --data`).
public struct KeyRotationReport: Sendable, Hashable {
    public var owners: [String]
    /// Whether it went on with a rotation an earlier run left unfinished.
    public var resumed: Bool
    public var rows: Int
    public var resealed: Int
    /// Sealed values checked to open with their keys at the end.
    public var verified: Int
}

/// What shredding a persona did (`troupe memory forget --persona P --shred`).
public struct ShredReceipt: Sendable, Hashable {
    public var persona: String
    public var forgotten: Int
    public var formationJobs: Int
    public var keys: [String]
    public var at: Date
}

extension Runtime {
    /// The home's vault, when its store is encrypted.
    public var vault: Vault? { (store as? any MigrationEndpoint)?.sealer as? Vault }

    private func encryptedStore(_ what: String) throws -> (Vault, any ResealingStore) {
        guard let vault, let store = store as? any ResealingStore else {
            throw TroupeError(.invalidInput, "cannot \(what): the home's store is not encrypted (`troupe vault init` encrypts it)")
        }
        return (vault, store)
    }

    /// Gives `owners` (every owner with a key when `nil`) new data keys and seals their values
    /// again, `batch` rows per committed transaction, then checks that every sealed value opens
    /// with its key and none of theirs is left under an old one. A rotation that an earlier run
    /// left unfinished (killed) is taken up where its last batch committed.
    public func rotateDataKeys(owners: [String]?, batch: Int = 500, progress: (Int, Int) -> Void = { _, _ in }) async throws -> KeyRotationReport {
        let (vault, store) = try encryptedStore("rotate data keys")
        let (chosen, resumed) = try vault.beginRotation(owners: owners, at: clock.now())
        if !resumed { try await store.setInfo(Self.resealMarker, "") }
        Failpoint.hit("vault.rotate.keys-made")
        var report = KeyRotationReport(owners: chosen, resumed: resumed, rows: 0, resealed: 0, verified: 0)
        var batches = 0
        while true {
            let done = try await store.resealBatch(marker: Self.resealMarker, limit: batch, from: vault, to: vault)
            (report.rows, report.resealed, batches) = (report.rows + done.rows, report.resealed + done.resealed, batches + 1)
            progress(report.rows, report.resealed)
            Failpoint.hit("vault.rotate.batch-\(batches)")
            if done.finished { break }
        }
        report.verified = try await verifySealed(requireCurrent: Set(chosen), batch: batch)
        Failpoint.hit("vault.rotate.verified")
        try vault.finishRotation()
        return report
    }

    /// Opens every sealed value of the store (checking each against its place) and, for the
    /// owners in `requireCurrent`, that it is under their active key. Returns how many it
    /// checked; throws naming the first values that fail.
    @discardableResult
    public func verifySealed(requireCurrent: Set<String> = [], batch: Int = 500) async throws -> Int {
        let (vault, store) = try encryptedStore("verify the vault")
        return try await Self.verifySealed(store, vault: vault, requireCurrent: requireCurrent, batch: batch)
    }

    static func verifySealed(_ store: any ResealingStore, vault: Vault, requireCurrent: Set<String> = [], batch: Int = 500) async throws -> Int {
        let checker = VerifyingSealer(vault: vault, requireCurrent: requireCurrent)
        try await store.setInfo(Self.verifyMarker, "")
        while try await !store.resealBatch(marker: Self.verifyMarker, limit: batch, from: vault, to: checker).finished {}
        let (checked, failures) = checker.result
        guard failures.isEmpty else {
            throw TroupeError(.storage, "\(failures.count) sealed value\(failures.count == 1 ? "" : "s") failed the check: " + failures.prefix(5).joined(separator: "; "))
        }
        return checked
    }

    /// Forgets every memory of `persona` (each leaves its audit line), drops its formation jobs,
    /// and destroys its data keys: whatever of it any copy of the store still holds (a mirror, a
    /// backup) can no longer be read. Other personas and shared slices keep theirs.
    public func shred(persona: PersonaID, reason: String?) async throws -> ShredReceipt {
        let (vault, _) = try encryptedStore("shred '\(persona)'")
        let records = try await store.query(MemoryQuery(owners: [persona], order: .canonical))
        let held = try vault.status().keys
        guard !records.isEmpty || held.contains(where: { $0.owner == persona.rawValue && $0.state != "shredded" }) else {
            throw TroupeError(.notFound, "'\(persona)' has no memory and no data key to shred")
        }
        for record in records { _ = try await writes.forget(record, reason: reason ?? "shredded") }
        let jobs = try await store.dropFormations(persona: persona.rawValue)
        let now = clock.now()
        let keys = try vault.shred(owner: persona.rawValue, at: now)
        return ShredReceipt(persona: persona.rawValue, forgotten: records.count, formationJobs: jobs, keys: keys, at: now)
    }

    static let resealMarker = "vault_reseal"
    static let verifyMarker = "vault_verify"
}

/// The vault as a re-sealing's target that writes nothing: it opens each value (which checks it
/// against its place) and notes any that fails or, for the owners it is told, is not under the
/// active key.
final class VerifyingSealer: RecordSealer {
    let vault: Vault
    let requireCurrent: Set<String>
    private let state = LockedBox((checked: 0, failures: [String]()))

    init(vault: Vault, requireCurrent: Set<String>) { (self.vault, self.requireCurrent) = (vault, requireCurrent) }

    var id: String { vault.id }
    var seals: Bool { true }
    var result: (Int, [String]) { state.withLock { ($0.checked, $0.failures) } }

    func isCurrent(_ stored: [UInt8], at place: SealedPlace) -> Bool {
        var failure: String?
        do {
            _ = try vault.open(stored, at: place)
            if requireCurrent.contains(place.owner), !vault.isCurrent(stored, at: place) {
                failure = "\(place.field.rawValue) of \(place.record) (\(place.owner)) is still under key \(Vault.keyID(of: stored) ?? "?")"
            }
        } catch {
            failure = String(describing: error)
        }
        state.withLock {
            $0.checked += 1
            if let failure { $0.failures.append(failure) }
        }
        return true
    }

    func seal(_ plain: [UInt8], at place: SealedPlace) throws -> [UInt8] {
        throw TroupeError(.storage, "a check writes nothing", context: place.record)
    }

    func open(_ sealed: [UInt8], at place: SealedPlace) throws -> [UInt8] { try vault.open(sealed, at: place) }
}

/// Places where a test can have the process killed (SIGKILL, as `kill -9` would) at an exact
/// moment: `TROUPE_FAILPOINT=NAME` names one. Nothing happens without it.
enum Failpoint {
    static let armed = ProcessInfo.processInfo.environment["TROUPE_FAILPOINT"]

    static func hit(_ name: String) {
        guard let armed, armed == name else { return }
        FileHandle.standardError.write(Data("troupe: failpoint \(name): killing this process\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
