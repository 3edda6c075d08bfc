import Foundation
import TroupeCore
import TroupeStore

/// The conformances the shared suite runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    case sqlite

    var testDescription: String { rawValue }

    func make() throws -> (any MemoryStore, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        switch self {
        case .inMemory: return (InMemoryStore(), directory)
        case .sqlite: return (try SQLiteStore(path: directory.url.appendingPathComponent("memory.sqlite").path), directory)
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

let t0 = Date(timeIntervalSince1970: 1_790_000_000)

func record(
    _ id: String, _ owner: PersonaID = "athena", _ slice: SliceKind = .semantic, content: String,
    importance: Double = 0.5, tags: [String] = [], at offset: TimeInterval = 0
) -> MemoryRecord {
    MemoryRecord(
        id: id, owner: owner, slice: slice, content: content, importance: importance, tags: tags, source: "test",
        createdAt: t0.addingTimeInterval(offset))
}

import Testing
