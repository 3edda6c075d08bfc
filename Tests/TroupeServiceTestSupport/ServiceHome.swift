import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService

/// A service on a temporary home, for the front ends' tests: SQLite, no Redis, the hashing
/// embedder, the offline chat backend; athena (a strategist, with a system prompt) and hestia
/// share the slice `team`. `mirrored`, a SQLite file in the home follows the store
/// (`storage.mirror`, at ``mirrorPath``).
public struct ServiceHome: Sendable {
    public let directory: URL
    public let runtime: Runtime
    public let service: TroupeService
    /// The mirror's file, when the home is mirrored.
    public var mirrorPath: String { directory.appendingPathComponent("mirror.sqlite").path }

    public init(mirrored: Bool = false, clock: any WallClock = SystemClock()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = RuntimeConfig()
        config.redis.mode = .off
        config.llm.backend = .offline
        config.embedder.path = directory.appendingPathComponent("no-model").path
        config.sharedSlices = [.init(name: "team", kind: .semantic, members: ["athena", "hestia"], policy: .keepBoth)]
        if mirrored { config.storage.mirror = "sqlite:" + directory.appendingPathComponent("mirror.sqlite").path }
        let personas: [PersonaDefinition] = [
            PersonaDefinition(
                name: "athena", role: "strategist", systemPrompt: "You are Athena, the team's strategist. Decide in writing.", priority: 60,
                procedural: [.init(kind: .rule, text: "Decide in writing.")], shared: ["team"]),
            PersonaDefinition(name: "hestia", priority: 40, shared: ["team"]),
        ]
        let location = ConfigLocation(configFile: nil, home: directory, personasDirectory: directory.appendingPathComponent("personas"))
        runtime = try await Runtime.opened(configuration: Configuration(location: location, runtime: config, personas: personas), clock: clock)
        service = TroupeService(runtime: runtime)
    }

    /// Shuts the runtime down and removes the home (off the cooperative pool).
    public func stop() async {
        await runtime.shutdown()
        let directory = directory
        _ = try? await offThePool("troupe-test.remove-home") { try FileManager.default.removeItem(at: directory) }
    }
}

extension ServiceHome {
    /// A session on this home's personas: two rounds on the offline backend, stopping at
    /// max_rounds whatever the replies say, which its one expectation checks.
    public static let twoRoundSession = """
        title: Who waters the plants
        personas: [athena, hestia]
        opening: Who waters the plants this week?
        max_rounds: 2
        stop:
          done: false
        expect:
          - stopped_by: max_rounds

        """
}

extension JSONValue {
    /// A member of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The items of an array, or none.
    public var items: [JSONValue] {
        guard case .array(let items) = self else { return [] }
        return items
    }

    /// A string's text, or nil.
    public var text: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
