import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// The formation queue: every check of ``FormationQueueConformance``, on each store.
@Suite("Formation queue conformance")
struct FormationQueueConformanceTests {
    @Test(arguments: StoreKind.allCases, FormationQueueConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
