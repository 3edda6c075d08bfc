import Foundation
import Testing
import TroupeCore
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// API keys' text, the rate limiter's buckets, and the service's key rules.
@Suite("Keys")
struct KeyTests {
    @Test func aKeyReadsBackAndNeverPrintsItsSecret() throws {
        let key = APIKey.generate()
        #expect(key.id.count == 16 && key.id.hasPrefix("trp_") && APIKey.isID(key.id))
        #expect(key.text.count == 16 + 1 + 64)
        let read = try #require(APIKey(parsing: key.text))
        #expect(read == key && read.secretHash == key.secretHash)
        #expect(!"\(key)".contains(key.text.suffix(64)) && "\(key)".hasPrefix(key.id))
        #expect(APIKey.generate().id != key.id, "random ids")
        let malformed = [
            "", "trp_", key.id, key.text + "0", String(key.text.dropLast()), key.text.uppercased(), "xyz_" + key.text.dropFirst(4),
            key.text.replacingOccurrences(of: "_", with: "-"), String(key.text.dropLast()) + "g", " " + key.text,
        ]
        for text in malformed { #expect(APIKey(parsing: text) == nil, "\(text)") }
    }

    @Test func aBucketLetsABurstThroughThenRefillsAtItsRate() {
        let now = LockedBox(0.0)
        let limiter = RateLimiter(seconds: { now.value })
        for _ in 0..<3 { #expect(limiter.take("k", rate: 2, burst: 3) == .allowed) }
        #expect(limiter.take("k", rate: 2, burst: 3) == .limited(retryAfter: 0.5, starts: true))
        #expect(limiter.take("k", rate: 2, burst: 3) == .limited(retryAfter: 0.5, starts: false))
        #expect(limiter.take("other", rate: 2, burst: 3) == .allowed, "buckets are per key")
        now.withLock { $0 = 0.25 }
        #expect(limiter.take("k", rate: 2, burst: 3) == .limited(retryAfter: 0.25, starts: false), "half a token back")
        now.withLock { $0 = 0.5 }
        #expect(limiter.take("k", rate: 2, burst: 3) == .allowed)
        now.withLock { $0 = 100 }
        for _ in 0..<3 { #expect(limiter.take("k", rate: 2, burst: 3) == .allowed) }
        #expect(limiter.take("k", rate: 2, burst: 3) == .limited(retryAfter: 0.5, starts: true), "a fresh refusal after being let in")
        #expect(RateLimitedError.wholeSeconds(0.2) == 1 && RateLimitedError.wholeSeconds(1.2) == 2)
    }

    @Test func onlyAnAdminManagesKeysAndAClientKeyNamesRealPersonas() async throws {
        let home = try await ServiceHome()
        defer { Task { await home.stop() } }
        let service = home.service
        let made = try await service.createKey(KeyGrant(role: .client, personas: ["hestia", "athena", "hestia"], label: "app"), .local)
        #expect(made.stored.personas == ["athena", "hestia"] && made.stored.secretHash == APIKey(parsing: made.text)?.secretHash)
        #expect(!made.stored.secretHash.contains(made.text.suffix(64)))
        let client = try await service.authenticate(authorization: "Bearer \(made.text)", source: "test")
        #expect(client.principal == Principal(id: made.stored.id, role: .client, personas: ["athena", "hestia"]))

        let operatorKey = try await service.createKey(KeyGrant(role: .operator), .local)
        let asOperator = try await service.authenticate(authorization: "Bearer \(operatorKey.text)", source: "test")
        for context in [client, asOperator] {
            await #expect(throws: TroupeError.self) { try await service.createKey(KeyGrant(role: .admin), context) }
            await #expect(throws: TroupeError.self) { try await service.revokeKey(made.stored.id, context) }
            await #expect(throws: TroupeError.self) { try await service.keys(context) }
        }
        #expect(try await service.keys(.local).count == 2)
        #expect(try await service.hasActiveKeys())
        _ = try await service.revokeKey(made.stored.id, .local)
        let again = try await service.revokeKey(made.stored.id, .local)
        #expect(again.revokedAt != nil)
        #expect(try await service.securityEvents(SecurityEventQuery(kinds: [.keyRevoked]), .local).count == 2)
        _ = try await service.revokeKey(operatorKey.stored.id, .local)
        #expect(try await !service.hasActiveKeys())
        await #expect(throws: TroupeError.self) { _ = try await service.authenticate(authorization: "Bearer \(made.text)", source: "test") }
    }
}
