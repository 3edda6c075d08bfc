import Crypto
import Foundation
import TroupeCore
import TroupeStore

/// Encryption at rest: envelope encryption with a data key per persona and per shared slice,
/// each wrapped by one master key.
///
/// The vault is the store's ``RecordSealer``: every value a store writes of a memory (content,
/// tags, metadata, vector, lost values, the formation queue's words) is sealed with AES-256-GCM
/// under its owner's key, bound to its place (owner, record, version, field) as authenticated
/// data. A sealed value is `magic (4) · key id (8) · nonce (12) · ciphertext · tag (16)`: the key
/// id says which key opens it, so that a rotation can re-seal values in batches while both keys
/// open what they sealed.
public final class Vault: RecordSealer {
    /// Recorded in the store: it is opened with a vault, or not at all.
    public let id = "vault-1"
    public let seals = true
    /// The files of the vault of a home: vault/keyring.json and vault/master.key.
    public let directory: URL
    let file: KeyringFile
    let master: MasterKey
    /// Unwrapped keys by id, and each owner's active key id; refreshed from the file when a value
    /// names a key not known yet, or when the file changed before a seal.
    private let state = LockedBox(State())

    private struct State {
        var keys: [String: SymmetricKey] = [:]
        var active: [String: String] = [:]
        var entries: [String: Keyring.Entry] = [:]
        var stamp: FileStamp?
    }

    static let magic: [UInt8] = [0xA7, 0x54, 0x56, 0x01]
    static let idLength = 8

    /// The directory a home's vault lives in.
    public static func directory(home: URL) -> URL { home.appendingPathComponent("vault") }

    /// Whether the home has a vault (its store is encrypted).
    public static func exists(home: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory(home: home).appendingPathComponent("keyring.json").path)
    }

    /// The home's master key file, the source when no other is configured.
    public static func keyFile(home: URL) -> URL { directory(home: home).appendingPathComponent("master.key") }

    /// Opens the vault in `directory` with the key from `source`; the key must be the one the
    /// keyring was made with (its fingerprint is in the keyring).
    public init(directory: URL, source: MasterKeySource, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.directory = directory
        file = KeyringFile(url: directory.appendingPathComponent("keyring.json"))
        guard file.exists else {
            throw TroupeError(.invalidConfig, "the home has no vault (no keyring): `troupe vault init` makes one", context: directory.path)
        }
        var master = try source.load(environment: environment)
        let keyring = try file.read()
        if keyring.master != master.fingerprint, case .file(let url) = source,
            let next = try? MasterKeySource.file(Self.nextKeyFile(url)).load(), next.fingerprint == keyring.master
        {
            // A master-key rotation stopped after the keyring was re-wrapped: finish it.
            try Self.promoteNextKey(url)
            master = next
        }
        self.master = master
        guard keyring.master == master.fingerprint else {
            throw TroupeError(
                .invalidConfig,
                "the vault's master key from \(source) (fingerprint \(master.fingerprint)) is not the one its keyring was wrapped with (fingerprint \(keyring.master))",
                context: file.url.path)
        }
        try reload(keyring)
    }

    /// Makes a new, empty vault in `directory`: its keyring, and (for a file source that does not
    /// exist yet) a new master key. Refuses to replace a keyring.
    @discardableResult
    public static func create(directory: URL, source: MasterKeySource, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Vault {
        let file = KeyringFile(url: directory.appendingPathComponent("keyring.json"))
        guard !file.exists else { throw TroupeError(.duplicate, "the home has a vault already", context: file.url.path) }
        let master: MasterKey
        if case .file(let url) = source, !FileManager.default.fileExists(atPath: url.path) {
            master = .generate()
            try source.store(master)
        } else {
            master = try source.load(environment: environment)
        }
        try file.write(Keyring(master: master.fingerprint))
        return try Vault(directory: directory, source: source, environment: environment)
    }

    // MARK: RecordSealer

    public func seal(_ plain: [UInt8], at place: SealedPlace) throws -> [UInt8] {
        let (id, key) = try activeKey(for: place.owner)
        let box = try AES.GCM.seal(plain, using: key, authenticating: place.authenticatedData)
        return Self.magic + Array(id.hexBytes) + Array(box.combined!)
    }

    public func open(_ sealed: [UInt8], at place: SealedPlace) throws -> [UInt8] {
        let header = Self.magic.count + Self.idLength
        guard sealed.count >= header + 12 + 16, Array(sealed.prefix(Self.magic.count)) == Self.magic else {
            throw TroupeError(.storage, "a stored \(place.field.rawValue) of '\(place.owner)' is not sealed by the vault", context: place.record)
        }
        let id = sealed[Self.magic.count..<header].map { String(format: "%02x", $0) }.joined()
        let key = try key(id, owner: place.owner)
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed[header...]), using: key, authenticating: place.authenticatedData))
        } catch {
            throw TroupeError(
                .storage, "a stored \(place.field.rawValue) of '\(place.owner)' does not open with its key \(id): it was changed or moved from another row",
                context: place.record)
        }
    }

    /// Sealed with the owner's active key. A value of an owner without one is not current: its
    /// key is made when it is sealed.
    public func isCurrent(_ stored: [UInt8], at place: SealedPlace) -> Bool {
        guard let id = Self.keyID(of: stored) else { return false }
        return state.withLock { $0.active[place.owner] } == id
    }

    /// The key id a sealed value names, if it is one.
    public static func keyID(of sealed: [UInt8]) -> String? {
        guard sealed.count >= magic.count + idLength, Array(sealed.prefix(magic.count)) == magic else { return nil }
        return sealed[magic.count..<(magic.count + idLength)].map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Keys

    /// The active key of `owner`, made (under the keyring's lock, so that processes of the home
    /// agree on one) if it has none. A keyring changed by another process since it was read
    /// (a rotation, a shredding) is read again first.
    func activeKey(for owner: String) throws -> (String, SymmetricKey) {
        let stamp = FileStamp(file.url)
        if let found = state.withLock({ s -> (String, SymmetricKey)? in
            guard s.stamp == stamp, let id = s.active[owner], let key = s.keys[id] else { return nil }
            return (id, key)
        }) {
            return found
        }
        let keyring = try file.change { keyring -> Keyring in
            if keyring.active(for: owner) == nil { _ = try keyring.add(owner: owner, wrappedBy: master, at: Date()) }
            return keyring
        }
        try reload(keyring)
        guard let found = state.withLock({ s -> (String, SymmetricKey)? in s.active[owner].flatMap { id in s.keys[id].map { (id, $0) } } }) else {
            throw TroupeError(.storage, "no data key for '\(owner)' after making one", context: file.url.path)
        }
        return found
    }

    private func key(_ id: String, owner: String) throws -> SymmetricKey {
        if let key = state.withLock({ $0.keys[id] }) { return key }
        try reload(try file.read())
        if let key = state.withLock({ $0.keys[id] }) { return key }
        if let entry = state.withLock({ $0.entries[id] }), entry.state == .shredded {
            throw ShreddedKey(owner: owner, key: id, shredded: entry.shredded)
        }
        throw TroupeError(.storage, "a value of '\(owner)' was sealed with data key \(id), which the keyring does not hold", context: file.url.path)
    }

    /// Takes `keyring` as the vault's keys: unwraps those not known yet, forgets shredded ones.
    func reload(_ keyring: Keyring) throws {
        let stamp = FileStamp(file.url)
        let known = state.withLock { $0.keys }
        var keys: [String: SymmetricKey] = [:]
        for entry in keyring.keys where entry.state != .shredded {
            keys[entry.id] = try known[entry.id] ?? Keyring.unwrap(entry, with: master)
        }
        let active = Dictionary(keyring.keys.filter { $0.state == .active }.map { ($0.owner, $0.id) }, uniquingKeysWith: { a, _ in a })
        let entries = Dictionary(keyring.keys.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        state.withLock { $0 = State(keys: keys, active: active, entries: entries, stamp: stamp) }
    }
}

/// What identifies one version of a file: its inode, size and change time. A rename over it
/// (how the keyring is written) changes the inode.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64
    var size: Int64
    var changed: Int

    init?(_ url: URL) {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        (inode, size, changed) = (UInt64(info.st_ino), Int64(info.st_size), info.st_ctim.tv_sec * 1_000_000_000 + info.st_ctim.tv_nsec)
    }
}

extension String {
    /// The bytes of a string of hex digits (pairs); what is not a pair of hex digits is skipped.
    var hexBytes: [UInt8] {
        var bytes: [UInt8] = []
        var index = startIndex
        while index < endIndex, let next = self.index(index, offsetBy: 2, limitedBy: endIndex) {
            if let byte = UInt8(self[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        return bytes
    }
}
