import Foundation
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupeRuntime
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

@Suite("Memory events of other writers")
struct OtherWritersEventsTests {
    /// A running runtime tells its subscribers what another runtime on the same home commits
    /// (as a session run's runtime, or the CLI in another process, does), each version once,
    /// and its own commits once though its look at the change feed sees them too.
    @Test func aRunningRuntimeTellsAnotherRuntimesCommitsOnceEach() async throws {
        let directory = try TemporaryDirectory()
        var config = RuntimeConfig()
        config.redis.mode = .off
        config.embedder.path = directory.url.appendingPathComponent("no-model").path
        let location = ConfigLocation(configFile: nil, home: directory.url, personasDirectory: directory.url.appendingPathComponent("personas"))
        let configuration = Configuration(location: location, runtime: config, personas: [PersonaDefinition(name: "athena")])
        let following = try await Runtime.opened(configuration: configuration)
        let other = try await Runtime.opened(configuration: configuration)
        let running = Task { try await following.run() }

        let events = following.events.subscribe()
        // Once a look has ended, the subscriber's place in the change feed is set.
        await following.otherWritersLooks.next()
        let athena = try await other.persona("athena")
        let fact = try await athena.remember("The review is on Friday.", in: .semantic)
        let next = try await athena.update(fact.id, basedOn: 1, change: MemoryChange(content: "The review is on Monday."))
        _ = try await other.forget(fact.id, reason: nil)
        let own = try await following.persona("athena").remember("The retro is on Tuesday.", in: .semantic)
        let gone = try await other.persona("athena").remember("The lunch is at noon.", in: .episodic)

        let wanted: Set<String> = ["written \(own.id) v1", "written \(gone.id) v1", "forgotten \(fact.id) v\(next.current.version)"]
        // Until every wanted event came; the deadline only guards against a follower that never tells.
        let told = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var told: [String] = []
                for await event in events {
                    told.append("\(event.kind.rawValue) \(event.id) v\(event.version)")
                    if wanted.isSubset(of: told) { break }
                }
                return told
            }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                throw TroupeError(.unavailable, "no events of the other runtime's commits after 120 s")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? []
        }
        // A look may come between the other runtime's writes (then the fact's own versions are
        // told before it is forgotten): whatever is told is told once.
        #expect(Set(told).count == told.count, "\(told)")
        #expect(wanted.isSubset(of: told), "\(told)")
        running.cancel()
        try await running.value
        await other.shutdown()
    }
}
