import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// Shared writes and their conflict policies: every check of ``SharedWriteConformance``, on each store.
@Suite("Shared writes")
struct SharedWriteConformanceTests {
    @Test(arguments: StoreKind.allCases, SharedWriteConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
