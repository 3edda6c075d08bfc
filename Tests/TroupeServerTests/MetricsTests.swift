import AsyncHTTPClient
import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeServer
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// `/metrics`: what the library and the server count, in Prometheus's text format.
@Suite("Metrics")
struct MetricsTests {
    typealias API = HTTPAPITests

    /// The value of the sample `name` (with its labels, as Prometheus prints them), or 0.
    static func sample(_ text: String, _ name: String) -> Double { value(text, name) ?? 0 }

    /// The value of the sample `name`, if there is one.
    static func value(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    @Test func writesRecallsTurnsAndRequestsAreCounted() async throws {
        try await API.withAPI(keysRequired: true) { home, call in
            let admin = try await home.service.createKey(KeyGrant(role: .operator), .local).text
            let client = try await home.service.createKey(KeyGrant(role: .client, personas: ["athena"]), .local).text
            func scrape() async throws -> String {
                var request = HTTPClientRequestText(url: call.base + "/metrics")
                request.key = admin
                return try await request.text()
            }
            let before = try await scrape()
            for content in ["The boiler is serviced in October.", "The plants are watered on Sundays."] {
                let added = try await call("POST", "/v1/personas/athena/memories", #"{"slice": "semantic", "content": "\#(content)"}"#, key: admin)
                #expect(added.status == 201)
            }
            #expect(try await call("POST", "/v1/personas/athena/recall", #"{"query": "boiler"}"#, key: admin).status == 200)
            #expect(try await call("POST", "/v1/personas/hestia/say", #"{"message": "Hello there."}"#, key: admin).status == 200)
            let after = try await scrape()

            let writes = #"troupe_memory_writes_total{slice="semantic"}"#
            #expect(Self.sample(after, writes) >= Self.sample(before, writes) + 2, "\(after)")
            #expect(Self.sample(after, #"troupe_recall_duration_seconds_count{cache="none"}"#) >= 1)
            #expect(Self.sample(after, "troupe_turn_duration_seconds_count") >= 1)
            #expect(after.contains("troupe_formation_queue_depth "))
            #expect(after.contains(#"http_route="/v1/personas/{persona}/memories""#), "request metrics by route template")

            #expect(try await call("GET", "/metrics", nil).status == 401)
            #expect(try await call("GET", "/metrics", nil, key: client).status == 403)
        }
    }
}

extension MetricsTests {
    /// The mirror's lag, as a scrape shows it: a write the mirror lacks is pending, and ages with
    /// the clock, until the mirror catches up. The runtime is not run, so the test alone
    /// catches the mirror up.
    @Test func aWriteTheMirrorLacksShowsAsLagUntilItCatchesUp() async throws {
        _ = ServerMetrics.registry  // bootstrapped before the first gauge is set
        let clock = ManualClock()
        let home = try await ServiceHome(mirrored: true, clock: clock)
        do {
            let mirror = try await home.runtime.configuredMirror()
            try await mirror.catchUp()
            let labels = #"{mirror="sqlite:\#(home.mirrorPath)"}"#
            func scrape() async -> (pending: Double?, seconds: Double?) {
                await home.runtime.refreshMetrics()
                let text = String(decoding: ServerMetrics.registry.emitToBuffer(), as: UTF8.self)
                return (Self.value(text, "troupe_mirror_pending_changes" + labels), Self.value(text, "troupe_mirror_lag_seconds" + labels))
            }
            var lag = await scrape()
            #expect(lag.pending == 0 && lag.seconds == 0, "\(lag)")

            _ = try await home.service.remember(persona: "athena", content: "The boiler is serviced in October.", in: .slice(.semantic), .local)
            lag = await scrape()
            #expect(lag.pending ?? 0 >= 1 && lag.seconds == 0, "seen waiting now: \(lag)")
            clock.advance(by: 7.5)
            lag = await scrape()
            #expect(lag.pending ?? 0 >= 1 && lag.seconds == 7.5, "\(lag)")

            try await mirror.catchUp()
            lag = await scrape()
            #expect(lag.pending == 0 && lag.seconds == 0, "\(lag)")
        } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }
}

/// A GET whose answer is read as text (the API's other answers are JSON).
struct HTTPClientRequestText {
    var url: String
    var key: String?

    func text() async throws -> String {
        var request = HTTPClientRequest(url: url)
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 8 << 20)
        return String(decoding: body.readableBytesView, as: UTF8.self)
    }
}
