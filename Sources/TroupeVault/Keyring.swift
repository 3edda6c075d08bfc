import Crypto
import Foundation
import TroupeCore

/// A vault's data keys, each wrapped by the master key: one file in the home
/// (vault/keyring.json), never in the store, so that no copy of the store (a mirror, a backup,
/// a replica) carries a key, and destroying a key here makes every copy of what it sealed
/// unreadable.
struct Keyring: Codable, Sendable {
    struct Entry: Codable, Sendable {
        enum State: String, Codable, Sendable {
            /// Seals new values of its owner (one per owner).
            case active
            /// Replaced by a newer key; still opens what it sealed until those are re-sealed.
            case retired
            /// Destroyed: `wrapped` is gone, and with it every value the key sealed.
            case shredded
        }

        /// 16 hex digits, random; written in front of every value the key seals.
        var id: String
        /// The persona or shared slice whose values it seals.
        var owner: String
        var created: Date
        var state: State
        /// The key sealed by the master key (AES-GCM, bound to its id and owner); `nil` once shredded.
        var wrapped: String?
        var shredded: Date?
    }

    /// A rotation of data keys under way: the owners whose new keys were made, and since when.
    /// Their values are sealed again in batches; the rotation ends with a check that none is left
    /// under an old key.
    struct Rotation: Codable, Sendable, Hashable {
        var owners: [String]
        var started: Date
    }

    var format = 1
    /// The fingerprint of the master key that wraps every key here.
    var master: String
    var keys: [Entry] = []
    var rotation: Rotation?

    init(master: String) { self.master = master }

    func active(for owner: String) -> Entry? { keys.first { $0.owner == owner && $0.state == .active } }

    /// A new data key for `owner`, wrapped by `master`; the owner's active key, if any, retires.
    mutating func add(owner: String, wrappedBy master: MasterKey, at time: Date) throws -> (Entry, SymmetricKey) {
        let key = SymmetricKey(size: .bits256)
        var id = ""
        repeat { id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() } while keys.contains { $0.id == id }
        for k in keys.indices where keys[k].owner == owner && keys[k].state == .active { keys[k].state = .retired }
        let entry = Entry(id: id, owner: owner, created: time, state: .active, wrapped: try Self.wrap(key, id: id, owner: owner, with: master))
        keys.append(entry)
        return (entry, key)
    }

    static func wrap(_ key: SymmetricKey, id: String, owner: String, with master: MasterKey) throws -> String {
        let bytes = key.withUnsafeBytes { Data($0) }
        return try AES.GCM.seal(bytes, using: master.key, authenticating: label(id: id, owner: owner)).combined!.base64EncodedString()
    }

    /// The data key of `entry`, unwrapped by `master`.
    static func unwrap(_ entry: Entry, with master: MasterKey) throws -> SymmetricKey {
        guard let wrapped = entry.wrapped, let data = Data(base64Encoded: wrapped) else {
            throw TroupeError(.storage, "the data key \(entry.id) of '\(entry.owner)' was shredded\(entry.shredded.map { " at \($0.ISO8601Format())" } ?? "")")
        }
        do {
            return SymmetricKey(data: try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: master.key, authenticating: label(id: entry.id, owner: entry.owner)))
        } catch {
            throw TroupeError(.storage, "the data key \(entry.id) of '\(entry.owner)' does not open with the master key (fingerprint \(master.fingerprint)): the keyring is damaged or not this key's")
        }
    }

    private static func label(id: String, owner: String) -> Data { Data("troupe-vault-key-1\u{0}\(id)\u{0}\(owner)".utf8) }
}

/// The keyring file and its lock file, beside each other in the vault directory.
struct KeyringFile: Sendable {
    let url: URL

    var lockURL: URL { url.deletingLastPathComponent().appendingPathComponent("keyring.lock") }

    var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    func read() throws -> Keyring {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TroupeError(.storage, "the vault's keyring cannot be read", context: url.path, cause: error)
        }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            return try decoder.decode(Keyring.self, from: data)
        } catch {
            throw TroupeError(.storage, "the vault's keyring is not a keyring Troupe wrote", context: url.path, cause: error)
        }
    }

    func write(_ keyring: Keyring) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        try SecretFile.write(try encoder.encode(keyring), to: url)
    }

    /// Runs `body` holding the keyring's lock (every process of the home takes it to change the
    /// keyring), on the keyring as it is now; writes back what `body` leaves, if it changed it.
    func change<T>(_ body: (inout Keyring) throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(lockURL.path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw TroupeError(.storage, "cannot open the keyring's lock: \(String(cString: strerror(errno)))", context: lockURL.path) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw TroupeError(.storage, "cannot lock the keyring: \(String(cString: strerror(errno)))", context: lockURL.path) }
        }
        defer { flock(fd, LOCK_UN) }
        var keyring = try read()
        let before = try JSONEncoder().encode(keyring)
        let result = try body(&keyring)
        if try JSONEncoder().encode(keyring) != before { try write(keyring) }
        return result
    }
}
