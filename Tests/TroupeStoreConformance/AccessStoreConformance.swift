import Foundation
import Testing
import TroupeCore
import TroupeStore

/// API keys and the security log (``AccessStore``), the same on every store: keys found by id
/// and listed in the order made, an id never given twice, a revocation whose first time stays,
/// and log lines numbered as written and read newest first, filtered and limited.
public enum AccessStoreConformance {
    /// Every check of the suite, by name; a store's test target runs each on a fresh store.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("createdKeysAreFoundByIDAndListedInTheOrderMade", createdKeysAreFoundByIDAndListedInTheOrderMade),
        ConformanceCheck("aKeyIDGivenTwiceIsRefusedAndNothingChanges", aKeyIDGivenTwiceIsRefusedAndNothingChanges),
        ConformanceCheck("aRevocationKeepsItsFirstTimeAndTheKeyStaysListed", aRevocationKeepsItsFirstTimeAndTheKeyStaysListed),
        ConformanceCheck("securityEventsAreNumberedAsWrittenAndReadNewestFirst", securityEventsAreNumberedAsWrittenAndReadNewestFirst),
        ConformanceCheck("securityEventsAreFilteredByKindAndKeyAndLimited", securityEventsAreFilteredByKindAndKeyAndLimited),
    ]

    /// A key made at `t0 + offset`: a client of `personas` unless another role is given.
    public static func key(
        _ id: String, role: String = "client", personas: [String] = ["athena", "hestia"], at offset: TimeInterval = 0
    ) -> StoredKey {
        StoredKey(
            id: id, secretHash: String(repeating: "ab", count: 31) + String(id.suffix(2)), role: role, personas: personas,
            label: "for \(id) ✓", createdAt: t0.addingTimeInterval(offset), ratePerSecond: 2.5, burst: 10)
    }

    /// A line of the security log at `t0 + offset`.
    public static func event(_ kind: SecurityEvent.Kind, key keyID: String? = nil, at offset: TimeInterval = 0) -> SecurityEvent {
        SecurityEvent(at: t0.addingTimeInterval(offset), kind: kind, keyID: keyID, source: "127.0.0.1:5\(Int(offset))", detail: "\(kind.rawValue) \(offset)")
    }

    static func createdKeysAreFoundByIDAndListedInTheOrderMade(_ store: any MemoryStore) async throws {
        var revoked = key("trp_000000000003", role: "operator", personas: [], at: 2)
        revoked.revokedAt = t0.addingTimeInterval(3)
        let keys = [key("trp_00000000000b"), key("trp_00000000000a", role: "admin", at: 1), revoked]
        for key in keys { try await store.createKey(key) }
        // Every field as written; the order made, not the ids' order.
        for key in keys { #expect(try await store.key(id: key.id) == key) }
        #expect(try await store.keys() == keys)
        #expect(try await store.key(id: "trp_00000000000c") == nil)
        #expect(try await store.key(id: "trp_00000000000") == nil)
    }

    static func aKeyIDGivenTwiceIsRefusedAndNothingChanges(_ store: any MemoryStore) async throws {
        let first = key("trp_00000000000a")
        try await store.createKey(first)
        try await store.createKey(key("trp_00000000000b", at: 1))
        _ = try await store.revokeKey(id: "trp_00000000000b", at: t0.addingTimeInterval(2))
        let before = try await store.keys()
        // Another secret, role and personas under a taken id, revoked or not.
        for id in ["trp_00000000000a", "trp_00000000000b"] {
            var again = key(id, role: "admin", personas: ["zeus"], at: 5)
            again.secretHash = String(repeating: "0", count: 64)
            let error = await #expect(throws: TroupeError.self) { try await store.createKey(again) }
            #expect(error?.code == .duplicate)
        }
        #expect(try await store.keys() == before)
        #expect(try await store.key(id: "trp_00000000000a") == first)
    }

    static func aRevocationKeepsItsFirstTimeAndTheKeyStaysListed(_ store: any MemoryStore) async throws {
        let (a, b) = (key("trp_00000000000a"), key("trp_00000000000b", at: 1))
        try await store.createKey(a)
        try await store.createKey(b)
        var revoked = a
        revoked.revokedAt = t0.addingTimeInterval(10)
        #expect(try await store.revokeKey(id: a.id, at: t0.addingTimeInterval(10)) == revoked)
        // Revoked again, later: the first time stays, and the key comes back as it is.
        #expect(try await store.revokeKey(id: a.id, at: t0.addingTimeInterval(20)) == revoked)
        #expect(try await store.key(id: a.id) == revoked)
        #expect(try await store.revokeKey(id: "trp_00000000000c", at: t0.addingTimeInterval(30)) == nil)
        // Still listed, in its place; the other key untouched.
        #expect(try await store.keys() == [revoked, b])
    }

    static func securityEventsAreNumberedAsWrittenAndReadNewestFirst(_ store: any MemoryStore) async throws {
        #expect(try await store.securityEvents(SecurityEventQuery()).isEmpty)
        let written = [
            event(.keyCreated, key: "trp_00000000000a"), event(.authenticationFailed, at: 1), event(.denied, key: "trp_00000000000a", at: 2),
            event(.rateLimited, key: "trp_00000000000a", at: 2), event(.keyRevoked, key: "trp_00000000000a", at: 3),
        ]
        var stored: [SecurityEvent] = []
        for event in written { stored.append(try await store.appendSecurityEvent(event)) }
        // Each line as written, with a number greater than every earlier one's.
        #expect(zip(stored, written).allSatisfy { s, w in s.seq > 0 && SecurityEvent(at: s.at, kind: s.kind, keyID: s.keyID, source: s.source, detail: s.detail) == w })
        #expect(zip(stored, stored.dropFirst()).allSatisfy { $0.seq < $1.seq }, "\(stored.map(\.seq))")
        #expect(try await store.securityEvents(SecurityEventQuery()) == stored.reversed())
        let later = try await store.appendSecurityEvent(event(.authenticationFailed, at: 4))
        #expect(later.seq > stored.last?.seq ?? .max)
        #expect(try await store.securityEvents(SecurityEventQuery(limit: 1)) == [later])
    }

    static func securityEventsAreFilteredByKindAndKeyAndLimited(_ store: any MemoryStore) async throws {
        var stored: [SecurityEvent] = []
        for (i, (kind, keyID)) in [
            (SecurityEvent.Kind.authenticationFailed, nil), (.denied, "trp_00000000000a"), (.authenticationFailed, "trp_00000000000b"),
            (.rateLimited, "trp_00000000000a"), (.denied, "trp_00000000000b"), (.authenticationFailed, "trp_00000000000a"),
        ].enumerated() {
            stored.append(try await store.appendSecurityEvent(event(kind, key: keyID, at: Double(i))))
        }
        let newestFirst = Array(stored.reversed())
        let read = { (query: SecurityEventQuery) in try await store.securityEvents(query) }
        #expect(try await read(SecurityEventQuery(kinds: [.authenticationFailed])) == newestFirst.filter { $0.kind == .authenticationFailed })
        #expect(try await read(SecurityEventQuery(kinds: [.denied, .rateLimited])) == [stored[4], stored[3], stored[1]])
        #expect(try await read(SecurityEventQuery(keyID: "trp_00000000000a")) == [stored[5], stored[3], stored[1]])
        #expect(try await read(SecurityEventQuery(kinds: [.denied], keyID: "trp_00000000000b")) == [stored[4]])
        #expect(try await read(SecurityEventQuery(kinds: [.authenticationFailed], limit: 2)) == [stored[5], stored[2]])
        #expect(try await read(SecurityEventQuery(limit: 4)) == Array(newestFirst.prefix(4)))
        #expect(try await read(SecurityEventQuery(limit: 100)) == newestFirst)
        // Nothing asked for, nothing found.
        #expect(try await read(SecurityEventQuery(kinds: [])).isEmpty)
        #expect(try await read(SecurityEventQuery(kinds: [.keyCreated])).isEmpty)
        #expect(try await read(SecurityEventQuery(keyID: "trp_00000000000c")).isEmpty)
        #expect(try await read(SecurityEventQuery(limit: 0)).isEmpty)
    }
}
