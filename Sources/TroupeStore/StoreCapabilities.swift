import Foundation

// What a driver's stores can do beyond the contract, asked for by capability, not by type.

/// A store kept in one file on this machine: a scripted session copies it and puts a copy back.
public protocol FileStore: MemoryStore {
    var path: String { get }
    /// Writes a consistent copy of the store to `path`.
    func copy(to path: String) async throws
    /// A value that changes whenever the store's contents do.
    func fingerprint() async throws -> [Int64]
    /// Makes the store's contents those of the file at `path`, in one transaction; with
    /// `expected`, only if the store is unchanged since that fingerprint.
    func replaceContents(from path: String, unchangedSince expected: [Int64]?) async throws
    /// Empties the write-ahead log before the store closes. Blocks: call it off the pool.
    func settleBeforeClose()
}

extension FileStore {
    /// Makes the store's contents those of the file at `path`, in one transaction.
    public func replaceContents(from path: String) async throws { try await replaceContents(from: path, unchangedSince: nil) }
}

/// A store other processes write to that announces their commits as they land.
public protocol ChangeAnnouncingStore: Sendable {
    /// A listener for the announcements, listening from now until it is stopped.
    func changeListener() -> any StoreChangeListener
}

/// Announcements of commits, as the store's change cursor.
public protocol StoreChangeListener: Sendable {
    /// Waits until a change after `seen` is announced (or a while passes); the latest seen.
    func next(after seen: Int64) async -> Int64
    func stop()
}

/// A store on a server: where it is and which server it is, for `doctor` and `storePath`.
public protocol ServerStore: Sendable {
    /// The server's URL without its password.
    var displayedLocation: String { get }
    /// The server and its version (`PostgreSQL 15.4`).
    var serverDescription: String { get }
}
