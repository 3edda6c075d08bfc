import Foundation
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// Keys, roles, rate limits and the security log, on a real loopback socket.
@Suite("HTTP API with keys")
struct HTTPAuthTests {
    typealias API = HTTPAPITests

    static func key(_ home: ServiceHome, _ grant: KeyGrant) async throws -> String {
        try await home.service.createKey(grant, .local).text
    }

    static func log(_ home: ServiceHome, _ kind: SecurityEvent.Kind) async throws -> [SecurityEvent] {
        try await home.service.securityEvents(SecurityEventQuery(kinds: [kind]), .local)
    }

    @Test func everyRouteButTheProbesNeedsAValidKey() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let admin = try await Self.key(home, KeyGrant(role: .admin))
            #expect(try await call("GET", "/healthz", nil).status == 200)
            let ready = try await call("GET", "/readyz", nil)
            #expect(ready.status == 200 && ready.json["store"]?.text == "ok" && ready.json["hot_tier"]?.text == "off")

            let wrongSecret = String(admin.prefix(17)) + String(repeating: "0", count: 64)
            let unknown = "trp_000000000000_" + String(repeating: "a", count: 64)
            let refused: [(String?, String)] = [
                (nil, "no key"), ("not-a-key", "malformed key"), (unknown, "unknown key"), (wrongSecret, "wrong secret"),
            ]
            for (key, _) in refused {
                let answer = try await call("GET", "/v1/personas", nil, key: key)
                #expect(answer.status == 401 && answer.json["error"]?["code"]?.text == "unauthenticated", "\(key ?? "none")")
                #expect(answer.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
                // The same answer whatever was wrong: nothing to probe key ids with.
                #expect(answer.json["error"]?["message"]?.text == "a valid key is required: Authorization: Bearer trp_…")
            }
            let failures = try await Self.log(home, .authenticationFailed)
            #expect(failures.map(\.detail) == refused.reversed().map(\.1))
            #expect(failures.allSatisfy { $0.source.hasPrefix("127.0.0.1:") && !$0.detail.contains(admin.suffix(64)) })
            #expect(failures.first?.keyID == String(admin.prefix(16)))

            let personas = try await call("GET", "/v1/personas", nil, key: admin)
            #expect(personas.status == 200 && personas.json.items.count == 2)
        }
    }

    @Test func aClientKeyActsOnlyAsItsPersonas() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let athena = try await Self.key(home, KeyGrant(role: .client, personas: ["athena"], label: "athena's app"))
            let hestiaMemory = try await home.service.remember(
                persona: "hestia", content: "The spare key is under the blue pot.", in: .slice(.semantic), .local)

            let listed = try await call("GET", "/v1/personas", nil, key: athena)
            #expect(listed.json.items.compactMap { $0["name"]?.text } == ["athena"])
            let added = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The boiler is serviced in October."}"#, key: athena)
            #expect(added.status == 201)

            let attempts: [(String, String, String?)] = [
                ("GET", "/v1/personas/hestia", nil),
                ("POST", "/v1/personas/hestia/recall", #"{"query": "where is the spare key"}"#),
                ("POST", "/v1/personas/hestia/memories", #"{"slice": "semantic", "content": "planted"}"#),
                ("GET", "/v1/personas/hestia/memories/\(hestiaMemory.id)/history", nil),
                ("DELETE", "/v1/personas/hestia/memories/\(hestiaMemory.id)", nil),
                ("GET", "/v1/personas/zeus", nil),
                ("GET", "/v1/keys", nil),
                ("POST", "/v1/keys", #"{"role": "admin"}"#),
                ("GET", "/v1/security-events", nil),
            ]
            for (method, path, body) in attempts {
                let answer = try await call(method, path, body, key: athena)
                #expect(answer.status == 403 && answer.json["error"]?["code"]?.text == "denied", "\(method) \(path): \(answer.json)")
                #expect(!answer.json.canonicalText.contains("blue pot"))
            }
            // Nothing of hestia's changed; every attempt is in the log, with the key and the peer.
            #expect(try await home.service.records(persona: "hestia", slice: .semantic, .local).map(\.content) == [hestiaMemory.content])
            let denials = try await Self.log(home, .denied)
            #expect(denials.count == attempts.count)
            #expect(denials.allSatisfy { $0.keyID == String(athena.prefix(16)) && $0.source.hasPrefix("127.0.0.1:") })
        }
    }

    @Test func anAdminManagesKeysAndARevokedKeyIsRefusedAtOnce() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let admin = try await Self.key(home, KeyGrant(role: .admin))
            let made = try await call("POST", "/v1/keys", #"{"role": "client", "personas": ["hestia"], "label": "kitchen tablet"}"#, key: admin)
            #expect(made.status == 201 && made.json["role"]?.text == "client" && made.json["personas"]?.items == [.string("hestia")])
            let client = try #require(made.json["key"]?.text)
            let id = try #require(made.json["id"]?.text)
            #expect(try await call("GET", "/v1/personas/hestia", nil, key: client).status == 200)

            let listed = try await call("GET", "/v1/keys", nil, key: admin)
            #expect(listed.json.items.count == 2)
            #expect(!listed.json.canonicalText.contains(String(client.suffix(64))), "a list never shows a secret")
            #expect(listed.json.items.allSatisfy { $0["key"] == nil && $0["secret_hash"] == nil })

            let revoked = try await call("DELETE", "/v1/keys/\(id)", nil, key: admin)
            #expect(revoked.status == 200 && revoked.json["active"] == .bool(false))
            let after = try await call("GET", "/v1/personas/hestia", nil, key: client)
            #expect(after.status == 401)
            #expect(try await Self.log(home, .authenticationFailed).first?.detail == "revoked key")
            #expect(try await Self.log(home, .keyCreated).count == 2)
            #expect(try await Self.log(home, .keyRevoked).map(\.keyID) == [id])

            let events = try await call("GET", "/v1/security-events?kind=key-revoked", nil, key: admin)
            #expect(events.status == 200 && events.json.items.map { $0["key"]?.text } == [id])

            let bad: [(String, String)] = [
                (#"{"role": "root"}"#, "role"), (#"{"role": "client"}"#, "personas"), (#"{"role": "client", "personas": ["zeus"]}"#, "personas"),
                (#"{"role": "admin", "personas": ["athena"]}"#, "personas"), (#"{"role": "operator", "rate": 0}"#, "rate"),
                (#"{"role": "operator", "secret": "x"}"#, "secret"),
            ]
            for (body, field) in bad {
                let answer = try await call("POST", "/v1/keys", body, key: admin)
                #expect(answer.status == 400 && answer.json["error"]?["field"]?.text == field, "\(body): \(answer.json)")
            }
            #expect(try await home.service.keys(.local).count == 2, "a refused grant makes no key")
            #expect(try await call("DELETE", "/v1/keys/trp_nothere", nil, key: admin).status == 400)
            #expect(try await call("DELETE", "/v1/keys/trp_000000000000", nil, key: admin).status == 404)
        }
    }

    @Test func aKeyOverItsRateLimitGets429WithRetryAfter() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            // A hundred seconds a token: however slow the machine, no token comes back during the test.
            let slow = try await Self.key(home, KeyGrant(role: .operator, ratePerSecond: 0.01, burst: 3))
            let other = try await Self.key(home, KeyGrant(role: .operator))
            for _ in 0..<3 { #expect(try await call("GET", "/v1/personas", nil, key: slow).status == 200) }
            for _ in 0..<2 {
                let limited = try await call("GET", "/v1/personas", nil, key: slow)
                #expect(limited.status == 429 && limited.json["error"]?["code"]?.text == "rate-limited")
                let wait = try #require(limited.headers.first(name: "retry-after").flatMap(Int.init))
                #expect((1...100).contains(wait))
            }
            #expect(try await call("GET", "/v1/personas", nil, key: other).status == 200, "each key has its own bucket")
            // One line when the key starts being held back, not one per refusal.
            #expect(try await Self.log(home, .rateLimited).map(\.keyID) == [String(slow.prefix(16))])
        }
    }
}
