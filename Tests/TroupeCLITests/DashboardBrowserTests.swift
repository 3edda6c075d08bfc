import Foundation
import Testing
import TroupeCore
import TroupeServiceTestSupport
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// The dashboard in a real browser: a headless Chromium drives the pages of a real `troupe
/// serve` (its own process, on a free loopback port, over a SQLite home that asks for keys)
/// and reads their DOM. Screenshots of each view are written to `.build/dashboard-screenshots/`
/// in the package (the test prints where).
@Suite("dashboard in a browser", .serialized, .cleanups)
struct DashboardBrowserTests {
    typealias Server = ServeCLITests.Server

    static let screenshots = CLITests.repo.appendingPathComponent(".build/dashboard-screenshots")

    /// A home on the shipped personas, offline (no model, no Redis), with an operator key and a
    /// client key for athena.
    static func home() async throws -> (home: URL, config: URL, operator: String, client: String) {
        let (home, config) = try HostileInputCLITests.home()
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "backend: auto ", with: "backend: offline ").writeUnsynced(to: config)
        func key(_ args: String...) async throws -> String {
            let made = try await CLITests.troupe(["keys", "create", "--json"] + args, home: home, config: config)
            return try #require(ServeCLITests.json(made.stdout)["key"]?.text, "\(made.stderr)")
        }
        return (home, config, try await key("--role", "operator"), try await key("--role", "client", "--persona", "athena"))
    }

    /// The browser on a page of `server`, with `key`; stopped when `body` ends.
    static func withBrowser(_ name: String, _ body: (Chromium) async throws -> Void) async throws {
        try await offThePool("troupe-test.screenshots") {
            try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: screenshots.appendingPathComponent("\(name)-failure.png"))
        }
        let browser = try await Chromium.launch(log: screenshots.appendingPathComponent("\(name)-chromium.log"))
        do { try await body(browser) } catch {
            try? await browser.screenshot(screenshots.appendingPathComponent("\(name)-failure.png"))
            try await browser.stop()
            throw error
        }
        try await browser.stop()
    }

    /// A real `troupe serve` on `home` for `body`; stopped (SIGTERM) afterwards, also when
    /// `body` throws, and expected to end cleanly when it did not.
    static func withServer(home: URL, config: URL, _ body: (Server) async throws -> Void) async throws {
        let server = try await Server.start(home: home, config: config)
        do { try await body(server) } catch {
            _ = try? await server.stop()
            throw error
        }
        let run = try await server.stop()
        #expect(run.status == 0, "\(run.stderr)")
    }

    static func shoot(_ browser: Chromium, _ name: String) async throws {
        let file = screenshots.appendingPathComponent("\(name).png")
        try await browser.screenshot(file)
        print("dashboard screenshot: \(file.path)")
    }

    /// A JavaScript string literal of `text`.
    static func js(_ text: String) -> String { JSONValue.string(text).canonicalText }

    /// `#view`'s text contains `text` (in the element `selector`).
    static func shows(_ text: String, in selector: String = "#view") -> String {
        "(document.querySelector(\(js(selector))) || {}).textContent.includes(\(js(text)))"
    }

    @Test func everyViewShowsTheHomesMemoriesAndAWriteArrivesLive() async throws {
        let (home, config, operatorKey, _) = try await Self.home()
        try await Self.withServer(home: home, config: config) { server in
            func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> JSONValue {
                let (status, text) = try await server.call(method, path, body, key: operatorKey)
                #expect((200..<300).contains(status), "\(method) \(path): \(status) \(text)")
                return ServeCLITests.json(text)
            }
            // A fact and its supersession: the launch moved from 14 to 21 March.
            let fact = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The launch is on 14 March."}"#)
            let id = try #require(fact["id"]?.text)
            _ = try await call("PATCH", "/v1/personas/athena/memories/\(id)", #"{"base_version": 1, "content": "The launch is on 21 March."}"#)
            var written: [String] = []
            for text in ["The boiler is serviced in May.", "Priya leads the launch review.", "The roof was fixed in 2024."] {
                let body = JSONValue.object(["slice": .string("semantic"), "content": .string(text)]).canonicalText
                written.append(try await call("POST", "/v1/personas/athena/memories", body)["id"]?.text ?? "")
            }
            let boiler = written[0]
            _ = try await call("PATCH", "/v1/personas/athena/memories/\(boiler)", #"{"base_version": 1, "content": "The boiler is serviced in June."}"#)
            _ = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "procedural", "content": "Check the launch checklist twice."}"#)
            // A claim of lower trust kept beside the launch's date, as formation keeps one (the API
            // makes none): written to the home's store by this process while the server runs.
            let store = try await TestSQLite.open(home.appendingPathComponent("memory.sqlite").path, sealer: try TestVault.sealer(home: home))
            try await store.put(MemoryRecord(
                id: "m-claim-april", owner: "athena", slice: .semantic, content: "The launch is on 1 April.", tags: ["disputed"], source: "hestia",
                createdAt: Date(),
                metadata: .object([
                    "disputes": .string(id), "said_by": .string("hestia"), "conversation": .string("c-1"), "turn": .number(2),
                    "by": .string("persona"), "method": .string("model"), "basis": .string("stated"),
                ])))
            // A turn (on the offline backend), and a session run kept in sessions/.
            _ = try await call("POST", "/v1/personas/athena/say", #"{"message": "When is the launch?"}"#)
            let session = JSONValue.object(["name": .string("plants"), "session": .string(ServiceHome.twoRoundSession)]).canonicalText
            _ = try await call("POST", "/v1/sessions", session)

            try await Self.withBrowser("operator") { browser in
                try await browser.navigate("\(server.base)/?key=\(operatorKey)#personas")
                try await browser.waitUntil(
                    #"document.querySelector('.persona[data-persona="athena"]') && "# + Self.shows("When is the launch?", in: #".persona[data-persona="athena"]"#),
                    "athena's card with her last turn")
                #expect(try await browser.evaluate("location.search").text == "", "the key leaves the address")
                #expect(try await browser.evaluate(Self.shows("session plants", in: #".persona[data-persona="athena"]"#)).bool == true, "a session run's turn")
                #expect(try await browser.evaluate(#"document.querySelector('.persona[data-persona="athena"] table').textContent"#).text?.contains("semantic") == true)
                try await Self.shoot(browser, "personas")

                // Beliefs: now 21 March; at the first moment 14 March; across the supersession 21 March again.
                try await browser.evaluate("location.hash = '#beliefs/athena'")
                try await browser.waitUntil(Self.shows("The launch is on 21 March.", in: "#believed"), "the current belief")
                #expect(try await browser.evaluate("document.querySelectorAll('#timeline rect').length").number == 7, "a bar per version")
                let launch = "document.querySelector('#believed li[data-id=\"\(id)\"]').textContent"
                #expect(try await browser.evaluate(launch).text?.contains("disputed byThe launch is on 1 April. (said by hestia (persona, model))") == true)
                #expect(try await browser.evaluate(launch).text?.contains("supersededThe launch is on 14 March. (said by athena") == true, "who said the value before")
                try await Self.shoot(browser, "beliefs-now")
                let slide = "(i) => { const s = document.getElementById('asof'); s.value = i; s.dispatchEvent(new Event('input')); }"
                try await browser.evaluate("(\(slide))(0)")
                try await browser.waitUntil(Self.shows("The launch is on 14 March.", in: "#believed") + " && !" + Self.shows("21 March", in: "#believed"), "the belief before")
                try await Self.shoot(browser, "beliefs-before-supersession")
                try await browser.evaluate("(\(slide))(1)")
                try await browser.waitUntil(Self.shows("The launch is on 21 March.", in: "#believed"), "the belief after the supersession")
                #expect(try await browser.evaluate("document.getElementById('diff').textContent").text?.contains("14 March") == true, "the diff from the first moment to now")

                // Live: a write made while the page is open arrives, with its text; and a running session's
                // turns as its log is written (the finished run's lines, written again one turn at a time).
                let finished = home.appendingPathComponent("sessions/plants/log.jsonl")
                let lines: [String] = try await offThePool("troupe-test.read-log") {
                    try String(contentsOf: finished, encoding: .utf8).split(separator: "\n").map { String($0) + "\n" }
                }
                let turns = lines.indices.filter { lines[$0].contains(#""kind":"turn""#) }
                try #require(turns.count == 2, "\(lines)")
                let running = home.appendingPathComponent("sessions/plants-live/log.jsonl")
                @Sendable func append(_ part: ArraySlice<String>) async throws {
                    let text = part.joined()
                    try await offThePool("troupe-test.write-log") {
                        try FileManager.default.createDirectory(at: running.deletingLastPathComponent(), withIntermediateDirectories: true)
                        if !FileManager.default.fileExists(atPath: running.path) { _ = FileManager.default.createFile(atPath: running.path, contents: nil) }
                        let handle = try FileHandle(forWritingTo: running)
                        defer { try? handle.close() }
                        try handle.seekToEnd()
                        try handle.write(contentsOf: Data(text.utf8))
                    }
                }
                try await append(lines[...turns[0]])
                try await browser.evaluate("location.hash = '#live'")
                try await browser.waitUntil("document.querySelector('#events[data-subscribed]')", "the event stream")
                _ = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "The courier comes at noon."}"#)
                try await browser.waitUntil(Self.shows("The courier comes at noon.", in: "#events"), "the write, live")
                #expect(try await browser.evaluate("document.querySelector('#events .event').dataset.kind").text == "written")
                // Another process's write (the CLI on the same home) arrives too, read off the store's change feed.
                let other = try await CLITests.troupe(
                    ["memory", "add", "--persona", "athena", "--slice", "semantic", "The gate code changes on Monday."], home: home, config: config)
                #expect(other.status == 0, "\(other.stderr)")
                try await browser.waitUntil(Self.shows("The gate code changes on Monday.", in: "#events"), "another process's write, live")
                // A stale write to a shared slice (keep-both): its resolution arrives as an event.
                let decision = try await call("POST", "/v1/personas/athena/memories", #"{"shared": "team-decisions", "content": "We ship on Fridays."}"#)
                let decided = try #require(decision["id"]?.text)
                _ = try await call("PATCH", "/v1/personas/athena/memories/\(decided)", #"{"base_version": 1, "content": "We ship on Thursdays."}"#)
                _ = try await call("PATCH", "/v1/personas/hestia/memories/\(decided)", #"{"base_version": 1, "content": "We ship on Mondays."}"#)
                try await browser.waitUntil(#"document.querySelector('#events .event[data-kind="conflict-resolved"]')"#, "the conflict's resolution, live")
                // A session run on the server (in a runtime of its own) while the page is open: its writes arrive too.
                let cat = ServiceHome.twoRoundSession.replacingOccurrences(of: "Who waters the plants this week?", with: "Who feeds the cat this week?")
                _ = try await call("POST", "/v1/sessions", JSONValue.object(["name": .string("cat"), "session": .string(cat)]).canonicalText)
                try await browser.waitUntil(Self.shows("Who feeds the cat this week?", in: "#events"), "a session run's writes, live")
                let told = "[...document.querySelectorAll('#events .event .content')].map((e) => e.textContent)"
                for text in ["The courier comes at noon.", "The gate code changes on Monday."] {
                    #expect(try await browser.evaluate("\(told).filter((t) => t === \(Self.js(text))).length").number == 1, "told once: \(text)")
                }
                try await browser.waitUntil("document.getElementById('transcript').dataset.turns === '1'", "the running session's first turn")
                #expect(try await browser.evaluate("document.getElementById('session').value").text == "plants-live", "the running run is followed")
                #expect(try await browser.evaluate("document.getElementById('transcript').textContent").text?.contains("Who waters the plants") == true)
                try await append(lines[(turns[0] + 1)...turns[1]])
                try await browser.waitUntil("document.getElementById('transcript').dataset.turns === '2'", "the second turn, as it is written")
                #expect(try await browser.evaluate("document.getElementById('session-ended') === null").bool == true)
                try await append(lines[(turns[1] + 1)...])
                try await browser.waitUntil("document.getElementById('session-ended')", "the run's end")
                try await Self.shoot(browser, "live")

                // Recall explained: the ranked memories with a bar per component.
                try await browser.evaluate("location.hash = '#recall/athena'")
                try await browser.waitUntil("document.getElementById('query')", "the recall form")
                try await browser.evaluate("document.getElementById('query').value = 'when is the launch'; document.querySelector('#view form').requestSubmit()")
                try await browser.waitUntil(Self.shows("The launch is on 21 March.", in: "#results"), "the recalled fact")
                #expect(try await browser.evaluate("document.querySelectorAll('#results .hit:first-child .bar .component').length").number ?? 0 >= 3)
                try await Self.shoot(browser, "recall")

                // Health: ready, the store, and latency histograms from /metrics.
                try await browser.evaluate("location.hash = '#health'")
                try await browser.waitUntil(Self.shows("ready", in: "#health-status") + " && document.querySelector('.histogram')", "health")
                #expect(try await browser.evaluate("document.getElementById('health-memories').textContent").text?.contains("current") == true)
                try await Self.shoot(browser, "health")

                // A shared slice's beliefs: the value kept beside the current one after the conflict.
                try await browser.evaluate("location.hash = '#beliefs/hestia'")
                try await browser.waitUntil("document.querySelector('#slice option[value=\"shared:team-decisions\"]') && document.getElementById('believed')", "hestia's beliefs")
                try await browser.evaluate("const s = document.getElementById('slice'); s.value = 'shared:team-decisions'; s.dispatchEvent(new Event('change'))")
                try await browser.waitUntil(Self.shows("We ship on Mondays.", in: "#believed") + " && " + Self.shows("kept beside", in: "#believed"), "the kept value")
                #expect(try await browser.evaluate(Self.shows("We ship on Thursdays.", in: "#believed")).bool == true)
                try await Self.shoot(browser, "beliefs-shared")
            }
        }
    }

    @Test func aClientKeySeesOnlyItsPersonaAndNoWholeHomeFigures() async throws {
        let (home, config, _, clientKey) = try await Self.home()
        try await Self.withServer(home: home, config: config) { server in
            try await Self.withBrowser("client") { browser in
                // Without a key the page asks for one.
                try await browser.navigate("\(server.base)/#personas")
                try await browser.waitUntil(Self.shows("paste one above", in: "#status"), "the request for a key")
                try await browser.evaluate("document.getElementById('key').value = \(Self.js(clientKey)); document.getElementById('keyform').requestSubmit()")
                try await browser.waitUntil(#"document.querySelector('.persona[data-persona="athena"]')"#, "athena's card")
                #expect(try await browser.evaluate("document.querySelectorAll('.persona').length").number == 1)
                try await browser.evaluate("location.hash = '#health'")
                try await browser.waitUntil(Self.shows("operators only", in: "#health-memories"), "the store's figures withheld")
                #expect(try await browser.evaluate(Self.shows("for admin and operator keys")).bool == true)
                try await browser.evaluate("location.hash = '#beliefs/hestia'")
                try await browser.waitUntil(Self.shows("denied", in: "#status"), "another persona's beliefs refused")
                try await Self.shoot(browser, "client")
            }
            // The dashboard's reads are the API's: a client key reads, and is refused another persona's.
            #expect(try await server.call("GET", "/v1/personas/hestia/beliefs", key: clientKey).status == 403)
            #expect(try await server.call("GET", "/v1/sessions/any/turns", key: clientKey).status == 403)
            #expect(try await server.call("GET", "/v1/personas/athena/beliefs", key: clientKey).status == 200)
        }
    }
}

extension JSONValue {
    var number: Double? { if case .number(let n) = self { n } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
}
