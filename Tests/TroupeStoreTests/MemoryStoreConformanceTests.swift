import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// Records: put, get, update, history, forget, query, upsert: every check of ``MemoryStoreConformance``, on each store.
@Suite("MemoryStore conformance")
struct MemoryStoreConformanceTests {
    @Test(arguments: StoreKind.allCases, MemoryStoreConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
