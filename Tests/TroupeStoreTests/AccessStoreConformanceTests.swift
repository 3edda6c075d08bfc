import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// API keys and the security log: every check of ``AccessStoreConformance``, on each store.
@Suite("Access store conformance")
struct AccessStoreConformanceTests {
    @Test(arguments: StoreKind.allCases, AccessStoreConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
