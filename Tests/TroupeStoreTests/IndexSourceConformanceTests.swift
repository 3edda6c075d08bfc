import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// The change feed, index scans with vectors, vector writes: every check of ``IndexSourceConformance``, on each store.
@Suite("IndexSource conformance")
struct IndexSourceConformanceTests {
    @Test(arguments: StoreKind.allCases, IndexSourceConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
