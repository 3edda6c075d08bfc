import Foundation
import Testing
import TroupeCore
import TroupeService
import TroupeServiceTestSupport
import TroupeStore

/// The belief graph and the memory-graph tools through the service, as a client bound to some
/// personas: it reaches its personas' graphs and their shared slices', nothing else.
@Suite("Graph service")
struct GraphServiceTests {
    static let hestiaOnly = RequestContext(principal: .client("app", personas: ["hestia"]))

    static func with(_ body: (ServiceHome) async throws -> Void) async throws {
        let home = try await ServiceHome()
        do { try await body(home) } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }

    static func entities(_ names: [String]) -> [String: JSONValue] {
        ["entities": .array(names.map { .object(["name": .string($0), "entityType": .string("thing"), "observations": .array([])]) })]
    }

    @Test func aClientReachesOnlyItsPersonasGraphsAndTheirSharedSlices() async throws {
        try await Self.with { home in
            let service = home.service
            _ = try await service.callMemoryGraph(.createEntities, Self.entities(["Owl"]), owner: "athena", .local)
            _ = try await service.callMemoryGraph(.createEntities, Self.entities(["Hearth"]), owner: nil, Self.hestiaOnly)
            _ = try await service.callMemoryGraph(.createEntities, Self.entities(["Plan"]), owner: "team", Self.hestiaOnly)

            await #expect(throws: TroupeError.self) { try await service.callMemoryGraph(.readGraph, nil, owner: "athena", Self.hestiaOnly) }
            await #expect(throws: TroupeError.self) { try await service.graph(GraphRequest(owner: "athena"), Self.hestiaOnly) }
            await #expect(throws: TroupeError.self) { try await service.graph(GraphRequest(), Self.hestiaOnly) }

            let own = try await service.callMemoryGraph(.readGraph, nil, owner: nil, Self.hestiaOnly)
            #expect(own.structured["entities"]?.items.compactMap { $0["name"]?.text } == ["Hearth"], "its one persona's graph by default")
            let hestia = try await service.graph(GraphRequest(owner: "hestia", about: "plan"), Self.hestiaOnly)
            #expect(hestia.owners == ["hestia", "team"] && hestia.entity?.name == "Plan", "a persona's beliefs include its shared slices'")
            let athena = try await service.graph(GraphRequest(owner: "athena", about: "hearth"), .local)
            #expect(athena.entity == nil && athena.edges.isEmpty)
        }
    }

    @Test func argumentsAreCheckedAndTheOwnerMustBeSaidWhenNoneFollows() async throws {
        try await Self.with { home in
            let bad = Self.entities(["X"]).merging(["extra": .bool(true)]) { a, _ in a }
            await #expect(throws: ArgumentError.self) { try await home.service.callMemoryGraph(.createEntities, bad, owner: "athena", .local) }
            let error = await #expect(throws: ArgumentError.self) { try await home.service.callMemoryGraph(.readGraph, nil, owner: nil, .local) }
            #expect(error?.field == "persona")
            let nested = await #expect(throws: ArgumentError.self) {
                try await home.service.callMemoryGraph(.createRelations, ["relations": .array([.object(["from": .string("a"), "to": .number(1)])])], owner: "athena", .local)
            }
            #expect(nested?.field == "relations[0].relationType" || nested?.field == "relations[0].to", "\(String(describing: nested))")
        }
    }

    /// A long-lived runtime keeps the graph it built; any write moves the store's change feed
    /// and the next question sees it.
    @Test func aKeptGraphGivesWayToTheNextWrite() async throws {
        try await Self.with { home in
            let service = home.service
            _ = try await service.callMemoryGraph(.createEntities, Self.entities(["Owl", "Athens"]), owner: "athena", .local)
            #expect(try await service.graph(GraphRequest(owner: "athena", about: "owl"), .local).edges.isEmpty)
            #expect(try await service.graph(GraphRequest(owner: "athena", about: "owl"), .local).edges.isEmpty)
            let relation: JSONValue = .object(["from": .string("Owl"), "to": .string("Athens"), "relationType": .string("lives_in")])
            _ = try await service.callMemoryGraph(.createRelations, ["relations": .array([relation])], owner: "athena", .local)
            let after = try await service.graph(GraphRequest(owner: "athena", about: "owl"), .local)
            #expect(after.edges.map(\.value) == ["Athens"])
            _ = try await service.callMemoryGraph(.deleteEntities, ["entityNames": .array([.string("Athens")])], owner: "athena", .local)
            #expect(try await service.graph(GraphRequest(owner: "athena", about: "owl"), .local).edges.isEmpty)
        }
    }
}
