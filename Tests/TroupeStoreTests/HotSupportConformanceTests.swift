import Foundation
import Testing
import TroupeStore
import TroupeStoreConformance

/// What the hot tier asks of a store: every check of ``HotSupportConformance``, on each store.
@Suite("Hot-tier support")
struct HotSupportConformanceTests {
    @Test(arguments: StoreKind.allCases, HotSupportConformance.checks)
    func conformance(kind: StoreKind, check: ConformanceCheck) async throws {
        try await kind.run(check)
    }
}
