import Foundation
import Testing
import TroupeCore
import TroupeStore

/// One check of a conformance suite: a name, and what it does to a fresh, empty store.
///
/// The suites hold a store to the storage contract (StorageContract.swift) whatever it is
/// built on: a store's test target runs every check on stores from its own factory, e.g.
/// `@Test(arguments: MemoryStoreConformance.checks) func conformance(check:) async throws {
/// try await check.run(makeStore()) }`, so a new store runs them unchanged.
public struct ConformanceCheck: Sendable, CustomTestStringConvertible {
    public let name: String
    let body: @Sendable (any MemoryStore) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (any MemoryStore) async throws -> Void) {
        self.name = name
        self.body = body
    }

    /// Runs the check on `store`, which must be fresh and empty.
    public func run(_ store: any MemoryStore) async throws { try await body(store) }

    public var testDescription: String { name }
}

/// The time the suites' records are written at.
public let t0 = Date(timeIntervalSince1970: 1_790_000_000)

/// A record for the suites: `athena`'s semantic memory unless told otherwise.
public func record(
    _ id: String, _ owner: PersonaID = "athena", _ slice: SliceKind = .semantic, content: String,
    importance: Double = 0.5, tags: [String] = [], at offset: TimeInterval = 0
) -> MemoryRecord {
    MemoryRecord(
        id: id, owner: owner, slice: slice, content: content, importance: importance, tags: tags, source: "test",
        createdAt: t0.addingTimeInterval(offset))
}
