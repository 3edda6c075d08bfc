import Foundation
import Testing
import TroupeCore
import TroupeServer
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// The dashboard's page and the reads it makes, over HTTP on a real loopback socket (the
/// browser's side is DashboardBrowserTests, in the CLI tests).
@Suite("HTTP API: the dashboard")
struct DashboardRoutesTests {
    typealias API = HTTPAPITests

    @Test func thePageIsServedWithoutAKeyAndEveryReadNeedsOne() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let page = try await call("GET", "/", nil)
            #expect(page.status == 200 && page.text.contains(#"<script src="/dashboard/app.js">"#), "\(page.text.prefix(200))")
            #expect(page.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
            let script = try await call("GET", "/dashboard/app.js", nil)
            #expect(script.status == 200 && script.text.contains("T.views.beliefs") && script.headers.first(name: "content-type")?.hasPrefix("text/javascript") == true)
            #expect(try await call("GET", "/dashboard/app.css", nil).status == 200)
            for path in ["/v1/whoami", "/v1/personas/athena/beliefs", "/v1/personas/athena/counts", "/v1/personas/athena/turns", "/v1/sessions/x/turns"] {
                #expect(try await call("GET", path, nil).status == 401, "\(path)")
            }
            let client = try await HTTPAuthTests.key(home, KeyGrant(role: .client, personas: ["athena"]))
            let me = try await call("GET", "/v1/whoami", nil, key: client)
            #expect(me.json["role"]?.text == "client" && me.json["personas"]?.items == [.string("athena")], "\(me.json)")
        }
    }

    @Test func beliefsComeAPageAtATimeWithEveryVersionAndTheirDisputes() async throws {
        try await API.withAPI { home, call in
            let service = home.service
            var ids: [String] = []
            for text in ["The launch is on 14 March.", "The boiler is serviced in May.", "The roof was fixed in 2024."] {
                ids.append(try await service.remember(persona: "athena", content: text, in: .slice(.semantic), .local).id)
            }
            _ = try await service.update(persona: "athena", id: ids[0], basedOn: 1, change: .init(content: "The launch is on 21 March."), .local)
            // A claim of lower trust kept beside the fact, as formation keeps one.
            let claim = MemoryRecord(
                id: "m-claim", owner: "athena", slice: .semantic, content: "The launch is on 1 April.", tags: ["disputed"], source: "hestia",
                createdAt: Date(), metadata: .object(["disputes": .string(ids[0])]))
            try await home.runtime.store.put(claim)
            _ = try await service.remember(persona: "hestia", content: "Hestia's own fact.", in: .slice(.semantic), .local)

            let first = try await call("GET", "/v1/personas/athena/beliefs?limit=2", nil)
            #expect(first.status == 200 && first.json["facts"]?.items.count == 2, "\(first.json)")
            let launch = try #require(first.json["facts"]?.items.first)
            let versions = launch["versions"]?.items ?? []
            #expect(versions.map { $0["content"]?.text } == ["The launch is on 14 March.", "The launch is on 21 March."])
            #expect(versions.first?["valid_to"]?.text == versions.last?["valid_from"]?.text && versions.last?["valid_to"] == nil)
            #expect(launch["disputed_by"]?.items == [.string("m-claim")])
            let next = try #require(first.json["next"]?.text)
            #expect(next == ids[1])

            let rest = try await call("GET", "/v1/personas/athena/beliefs?limit=2&after=\(next)", nil)
            let contents = rest.json["facts"]?.items.compactMap { $0["versions"]?.items.last?["content"]?.text }
            #expect(contents == ["The roof was fixed in 2024.", "The launch is on 1 April."], "\(rest.json)")
            #expect(rest.json["next"] == .null)
            #expect(try await call("GET", "/v1/personas/athena/beliefs?slice=procedural", nil).json["facts"]?.items.isEmpty == false, "the seeds")

            // A shared slice: the stale write kept beside the current value (keep-both), linked to it.
            let shared = try await service.remember(persona: "athena", content: "Freeze on Friday.", in: .shared("team"), .local)
            _ = try await service.update(persona: "athena", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Thursday."), .local)
            _ = try await service.update(persona: "hestia", id: shared.id, basedOn: 1, change: .init(content: "Freeze on Monday."), .local)
            let team = try await call("GET", "/v1/personas/hestia/beliefs?shared=team", nil)
            let frozen = team.json["facts"]?.items.first { $0["id"]?.text == shared.id }
            #expect(frozen?["versions"]?.items.compactMap { $0["content"]?.text } == ["Freeze on Friday.", "Freeze on Thursday."], "\(team.json)")
            let sibling = try #require(frozen?["links"]?.items.first?["id"]?.text, "\(team.json)")
            #expect(team.json["facts"]?.items.contains { $0["id"]?.text == sibling && $0["versions"]?.items.last?["content"]?.text == "Freeze on Monday." } == true)
            #expect(try await call("GET", "/v1/personas/athena/beliefs?shared=nowhere", nil).status == 404)

            for (query, field) in [("limit=0", "limit"), ("limit=501", "limit"), ("slice=dreams", "slice"), ("after=\(ids[0])&slice=episodic", "after")] {
                let bad = try await call("GET", "/v1/personas/athena/beliefs?\(query)", nil)
                #expect(bad.status == 400 && bad.json["error"]?["field"]?.text == field, "\(query): \(bad.json)")
            }
        }
    }

    @Test func aClientReadsItsPersonasCountsAndItsOwnTurnsOnly() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let first = try await HTTPAuthTests.key(home, KeyGrant(role: .client, personas: ["athena"]))
            let second = try await HTTPAuthTests.key(home, KeyGrant(role: .client, personas: ["athena"]))
            let operatorKey = try await HTTPAuthTests.key(home, KeyGrant(role: .operator))
            _ = try await home.service.remember(persona: "athena", content: "Freeze on Friday.", in: .shared("team"), .local)
            let said = try await call("POST", "/v1/personas/athena/say", #"{"message": "What is frozen on Friday?"}"#, key: first)
            #expect(said.status == 200, "\(said.json)")

            let counts = try await call("GET", "/v1/personas/athena/counts", nil, key: first)
            let owners = Set(counts.json.items.compactMap { $0["owner"]?.text })
            #expect(counts.status == 200 && owners == ["athena", "team"], "\(counts.json)")
            #expect(try await call("GET", "/v1/personas/hestia/counts", nil, key: first).status == 403)
            #expect(try await call("GET", "/v1/personas/hestia/beliefs", nil, key: first).status == 403)
            #expect(try await call("GET", "/v1/personas/athena/beliefs?shared=team", nil, key: first).json["facts"]?.items.count == 1)

            let mine = try await call("GET", "/v1/personas/athena/turns", nil, key: first)
            #expect(mine.json.items.map { $0["message"]?.text } == ["What is frozen on Friday?"], "\(mine.json)")
            #expect(mine.json.items.first?["recalled"]?.items.isEmpty == false && mine.json.items.first?["prompt"] == nil)
            #expect(try await call("GET", "/v1/personas/athena/turns", nil, key: second).json.items.isEmpty, "another client's conversation")
            #expect(try await call("GET", "/v1/personas/athena/turns", nil, key: operatorKey).json.items.count == 1)
        }
    }

    @Test func aRunsTurnsAreReadFromItsLogAfterThoseSeen() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let key = try await HTTPAuthTests.key(home, KeyGrant(role: .operator))
            let client = try await HTTPAuthTests.key(home, KeyGrant(role: .client, personas: ["athena"]))
            let ran = try await call("POST", "/v1/sessions", HTTPHomeRoutesTests.body(name: "plants", session: ServiceHome.twoRoundSession), key: key)
            #expect(ran.status == 200, "\(ran.json)")
            let all = try await call("GET", "/v1/sessions/plants/turns", nil, key: key)
            #expect(all.status == 200 && all.json["ended"] == .bool(true) && all.json["turns"]?.items.count == 2, "\(all.json)")
            #expect(all.json["turns"]?.items.allSatisfy { $0["prompt"] == nil && $0["calls"] == nil && $0["reply"]?.text != nil } == true)
            let later = try await call("GET", "/v1/sessions/plants/turns?after=1", nil, key: key)
            #expect(later.json["turns"]?.items.count == 1 && later.json["turns"]?.items.first == all.json["turns"]?.items.last, "\(later.json)")
            #expect(try await call("GET", "/v1/sessions/plants/turns", nil, key: client).status == 403)
            #expect(try await call("GET", "/v1/sessions/none/turns", nil, key: key).status == 404)
            #expect(try await call("GET", "/v1/sessions/plants/turns?after=-1", nil, key: key).status == 400)
        }
    }
}
