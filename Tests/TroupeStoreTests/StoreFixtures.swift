import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// The conformances the shared suite runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    func make() throws -> (any MemoryStore, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        switch self {
        case .inMemory: return (InMemoryStore(), directory)
        case .sqlite: return (try SQLiteStore(path: directory.url.appendingPathComponent("memory.sqlite").path), directory)
        case .postgres: return (try TestPostgres.freshStore(), directory)
        }
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

    deinit { try? FileManager.default.removeItem(at: url) }
}
