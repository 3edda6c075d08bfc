import Foundation
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// Show, stats, the conflict audit and session runs over HTTP, on a real loopback socket.
@Suite("HTTP API: the whole home")
struct HTTPHomeRoutesTests {
    typealias API = HTTPAPITests

    /// A session's YAML as a JSON body's string.
    static func body(name: String, session: String) -> String {
        JSONValue.object(["name": .string(name), "session": .string(session)]).canonicalText
    }

    @Test func showStatsAndAuditAnswerAsTheCLIsJSON() async throws {
        try await API.withAPI { home, call in
            let service = home.service
            let shared = try await service.remember(persona: "athena", content: "Freeze on Friday.", in: .shared("team"), .local)
            _ = try await service.update(persona: "athena", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Thursday."), .local)
            _ = try await service.update(persona: "hestia", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Monday."), .local)

            let shown = try await call("GET", "/v1/personas/hestia/memories/\(shared.id)", nil)
            #expect(shown.status == 200 && shown.json["id"]?.text == shared.id && shown.json["persona"]?.text == "team", "\(shown.json)")
            // A record hestia cannot reach is one answer, whether it exists or not.
            let missing = try await call("GET", "/v1/personas/hestia/memories/m-none", nil)
            #expect(missing.status == 403 && missing.json["error"]?["code"]?.text == "denied", "\(missing.json)")

            let stats = try await call("GET", "/v1/stats", nil)
            #expect(stats.status == 200 && stats.json["by_owner"]?["team"] != nil && stats.json["records"] != nil, "\(stats.json)")

            let audit = try await call("GET", "/v1/audit?slice=team&limit=5", nil)
            #expect(audit.status == 200 && audit.json.items.count == 1 && audit.json.items.first?["writer"]?.text == "hestia", "\(audit.json)")
            #expect(audit.json.items.first?["record"]?.text == shared.id)
            for (query, field) in [("limit=0", "limit"), ("limit=ten", "limit")] {
                let bad = try await call("GET", "/v1/audit?\(query)", nil)
                #expect(bad.status == 400 && bad.json["error"]?["field"]?.text == field, "\(query): \(bad.json)")
            }
            #expect(try await call("GET", "/v1/audit?slice=nowhere", nil).status == 404)
        }
    }

    @Test func aClientKeyIsDeniedTheWholeHomeAndSeesTheAuditOfItsSharedSlices() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let athena = try await HTTPAuthTests.key(home, KeyGrant(role: .client, personas: ["athena"]))
            let operatorKey = try await HTTPAuthTests.key(home, KeyGrant(role: .operator))
            let hestiaMemory = try await home.service.remember(
                persona: "hestia", content: "The spare key is under the blue pot.", in: .slice(.semantic), .local)
            let attempts: [(String, String, String?)] = [
                ("GET", "/v1/personas/hestia/memories/\(hestiaMemory.id)", nil),
                ("GET", "/v1/stats", nil),
                ("GET", "/v1/audit?slice=nowhere", nil),
                ("GET", "/v1/sessions", nil),
                ("POST", "/v1/sessions", Self.body(name: "x", session: ServiceHome.twoRoundSession)),
                ("GET", "/v1/sessions/x", nil),
                ("GET", "/v1/sessions/x/transcript", nil),
            ]
            for (method, path, body) in attempts {
                let answer = try await call(method, path, body, key: athena)
                #expect(answer.status == 403 && answer.json["error"]?["code"]?.text == "denied", "\(method) \(path): \(answer.json)")
                #expect(!answer.text.contains("blue pot"))
            }
            #expect(try await HTTPAuthTests.log(home, .denied).count == attempts.count)
            let audit = try await call("GET", "/v1/audit", nil, key: athena)
            #expect(audit.status == 200 && audit.json.items.isEmpty)
            #expect(try await call("GET", "/v1/audit?slice=team", nil, key: athena).status == 200)
            #expect(try await call("GET", "/v1/stats", nil, key: operatorKey).status == 200)
            #expect(!FileManager.default.fileExists(atPath: home.directory.appendingPathComponent("sessions").path))
        }
    }

    @Test func anOperatorKeyRunsASessionAndReadsItsStatusAndTranscript() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let key = try await HTTPAuthTests.key(home, KeyGrant(role: .operator))
            let ran = try await call("POST", "/v1/sessions", Self.body(name: "plants", session: ServiceHome.twoRoundSession), key: key)
            #expect(ran.status == 200 && ran.json["stopped_by"]?.text == "max_rounds" && ran.json["turns"] == .number(2), "\(ran.json)")
            let listed = try await call("GET", "/v1/sessions", nil, key: key)
            #expect(listed.status == 200 && listed.json.items.compactMap { $0["name"]?.text } == ["plants"])
            let status = try await call("GET", "/v1/sessions/plants", nil, key: key)
            #expect(status.json["ended"] == .bool(true) && status.json["passed"] == .bool(true) && status.json["turns"] == .number(2))
            let transcript = try await call("GET", "/v1/sessions/plants/transcript", nil, key: key)
            #expect(transcript.status == 200 && transcript.text.contains("Who waters the plants"))
            #expect(transcript.headers.first(name: "content-type")?.hasPrefix("text/markdown") == true)
            #expect(try await call("GET", "/v1/sessions/nothing", nil, key: key).status == 404)

            let long = ServiceHome.twoRoundSession.replacingOccurrences(of: "max_rounds: 2", with: "max_rounds: 21")
            let refused = try await call("POST", "/v1/sessions", Self.body(name: "long", session: long), key: key)
            #expect(refused.status == 400 && refused.json["error"]?["field"]?.text == "session", "\(refused.json)")
            let badName = try await call("POST", "/v1/sessions", Self.body(name: "../up", session: ServiceHome.twoRoundSession), key: key)
            #expect(badName.status == 400 && badName.json["error"]?["field"]?.text == "name", "\(badName.json)")
            #expect(try await call("GET", "/v1/sessions", nil, key: key).json.items.count == 1)
        }
    }
}
