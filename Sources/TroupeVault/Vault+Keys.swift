import Crypto
import Foundation
import TroupeCore

/// What a vault holds, for `troupe vault status`.
public struct VaultStatus: Sendable, Hashable {
    public struct Key: Sendable, Hashable {
        public var id: String
        public var owner: String
        public var created: Date
        /// `active`, `retired` or `shredded`.
        public var state: String
        public var shredded: Date?
    }

    public var directory: String
    public var masterFingerprint: String
    public var keys: [Key]
    /// The owners of a data-key rotation under way, and when it started.
    public var rotating: [String]?
    public var rotationStarted: Date?
}

extension Vault {
    public func status() throws -> VaultStatus {
        let keyring = try file.read()
        return VaultStatus(
            directory: directory.path, masterFingerprint: keyring.master,
            keys: keyring.keys.map { VaultStatus.Key(id: $0.id, owner: $0.owner, created: $0.created, state: $0.state.rawValue, shredded: $0.shredded) },
            rotating: keyring.rotation?.owners, rotationStarted: keyring.rotation?.started)
    }

    /// Destroys every data key of `owner`: what they sealed, in this store and in every copy of
    /// it, can no longer be read. Returns the ids destroyed.
    public func shred(owner: String, at time: Date = Date()) throws -> [String] {
        let (keyring, ids) = try file.change { keyring -> (Keyring, [String]) in
            var ids: [String] = []
            for k in keyring.keys.indices where keyring.keys[k].owner == owner && keyring.keys[k].state != .shredded {
                keyring.keys[k].state = .shredded
                keyring.keys[k].wrapped = nil
                keyring.keys[k].shredded = time
                ids.append(keyring.keys[k].id)
            }
            return (keyring, ids)
        }
        try reload(keyring)
        return ids
    }

    /// Starts a rotation of the data keys of `owners` (every owner with a key when `nil`): each
    /// gets a new active key, the old ones retire. A rotation under way is returned as it is, so
    /// that running the command again resumes it.
    public func beginRotation(owners: [String]?, at time: Date = Date()) throws -> (owners: [String], resumed: Bool) {
        let (keyring, result) = try file.change { keyring -> (Keyring, ([String], Bool)) in
            if let rotation = keyring.rotation { return (keyring, (rotation.owners, true)) }
            let all = Set(keyring.keys.filter { $0.state == .active }.map(\.owner))
            let chosen = (owners.map(Set.init) ?? all).sorted()
            for owner in chosen { _ = try keyring.add(owner: owner, wrappedBy: master, at: time) }
            keyring.rotation = Keyring.Rotation(owners: chosen, started: time)
            return (keyring, (chosen, false))
        }
        try reload(keyring)
        return result
    }

    /// Ends the rotation under way.
    public func finishRotation() throws {
        try reload(try file.change { keyring -> Keyring in
            keyring.rotation = nil
            return keyring
        })
    }

    /// Wraps every data key with `newKey` instead, touching no record. For a file source the new
    /// key is written beside the old one first (master.key.next), then the keyring, then the new
    /// key takes the old one's place: a crash between the two leaves a keyring that the next
    /// open finishes (``Vault/init(directory:source:environment:)``).
    public func rotateMaster(to newKey: MasterKey, source: MasterKeySource) throws {
        if case .file(let url) = source { try MasterKeySource.file(Self.nextKeyFile(url)).store(newKey) }
        let old = master
        _ = try file.change { keyring -> Keyring in
            for k in keyring.keys.indices where keyring.keys[k].state != .shredded {
                let key = try Keyring.unwrap(keyring.keys[k], with: old)
                keyring.keys[k].wrapped = try Keyring.wrap(key, id: keyring.keys[k].id, owner: keyring.keys[k].owner, with: newKey)
            }
            keyring.master = newKey.fingerprint
            return keyring
        }
        if case .file(let url) = source { try Self.promoteNextKey(url) }
    }

    static func nextKeyFile(_ url: URL) -> URL { url.appendingPathExtension("next") }

    /// Puts master.key.next in master.key's place.
    static func promoteNextKey(_ url: URL) throws {
        guard rename(nextKeyFile(url).path, url.path) == 0 else {
            throw TroupeError(.storage, "cannot put the new master key in place: \(String(cString: strerror(errno)))", context: url.path)
        }
        SecretFile.syncDirectory(url.deletingLastPathComponent())
    }
}
