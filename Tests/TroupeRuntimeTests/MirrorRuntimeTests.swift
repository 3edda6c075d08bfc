import Foundation
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupeRuntime
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

@Suite("Mirror in a long-lived runtime")
struct MirrorRuntimeTests {
    /// A runtime that runs (as the REPL does) keeps `storage.mirror` following while it runs and
    /// brings it up to date when it stops, without a warning on the way out.
    @Test func aRunningRuntimeKeepsTheMirrorCurrentAndCatchesItUpAtTheEnd() async throws {
        let directory = try TemporaryDirectory()
        let mirrorPath = directory.url.appendingPathComponent("mirror.sqlite").path
        var config = RuntimeConfig()
        config.redis.mode = .off
        config.embedder.path = directory.url.appendingPathComponent("no-model").path
        config.storage.mirror = "sqlite:" + mirrorPath
        let location = ConfigLocation(configFile: nil, home: directory.url, personasDirectory: directory.url.appendingPathComponent("personas"))
        let log = LogLines()
        let runtime = try await Runtime.opened(
            configuration: Configuration(location: location, runtime: config, personas: [PersonaDefinition(name: "athena")]), logger: log.logger)
        let running = Task { try await runtime.run() }
        let athena = try await runtime.persona("athena")

        let first = try await athena.remember("the review is on Friday", in: .semantic)
        let mirror = try await TestSQLite.open(mirrorPath)
        let deadline = Date().addingTimeInterval(300)
        while try await mirror.get(first.id) == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await mirror.get(first.id) != nil, "the mirror did not follow while the runtime ran")

        // Written, then stopped at once: shutdown sends it.
        let last = try await athena.remember("the retro is on Monday", in: .semantic)
        running.cancel()
        try await running.value
        #expect(try await mirror.get(last.id)?.content == "the retro is on Monday")
        #expect(!log.all.contains { $0.contains("mirror") }, "\(log.all)")
    }
}
