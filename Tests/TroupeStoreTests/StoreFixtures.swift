import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// The conformances the shared suite runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    case sqlite
    case postgres
    /// The same stores, encrypted by a vault: every check again with every value sealed.
    case sqliteSealed
    case postgresSealed

    var testDescription: String { rawValue }

    /// Runs `check` on a fresh, empty store of this kind. Opening the store (a file lock, a
    /// migration, a connection) and closing it run off the cooperative pool: the last release of
    /// a SQLite store closes its database, which checkpoints the log and syncs the file.
    func run(_ check: ConformanceCheck) async throws {
        let directory = try TemporaryDirectory()
        let held: LockedBox<(any MemoryStore)?>
        switch self {
        case .inMemory: held = LockedBox(InMemoryStore())
        case .sqlite: held = LockedBox(try await TestSQLite.open(directory.file("memory.sqlite").path))
        case .postgres: held = LockedBox(try await TestPostgres.freshStore())
        case .sqliteSealed:
            held = LockedBox(try await TestSQLite.open(directory.file("memory.sqlite").path, sealer: try await TestVault.made(in: directory.url)))
        case .postgresSealed: held = LockedBox(try await TestPostgres.freshStore(sealer: try await TestVault.made(in: directory.url)))
        }
        try await withCleanup {
            try await check.run(held.value!)
        } cleanup: {
            // The box holds the last reference: it is taken out and dropped on that thread.
            _ = try? await offThePool("troupe-test.store.close") { _ = held.withLock { $0.take() } }
        }
        _ = directory
    }
}

/// A directory removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    // Safe: immutable after init.
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Removed in the background (``DirectoryRemoval``): the last release happens in a test's
    /// task, on the cooperative pool.
    deinit { DirectoryRemoval.remove(url) }
}
