import Foundation
import Testing
import TroupeCore
import TroupeService
import TroupeServiceTestSupport

/// The service layer's own rules: who may act as whom, one answer for what a caller may not
/// know about, the operator's whole-home operations, and conversations by id.
@Suite("Service layer")
struct TroupeServiceTests {
    static let hestiaClient = RequestContext(principal: .client("key-hestia", personas: ["hestia"]))

    static func with(_ body: (ServiceHome) async throws -> Void) async throws {
        let home = try await ServiceHome()
        do { try await body(home) } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }

    /// The error `call` throws, if it is a TroupeError.
    static func error(_ call: () async throws -> Void) async -> TroupeError? {
        do { try await call() } catch let error as TroupeError { return error } catch { return nil }
        return nil
    }

    @Test func aClientIsDeniedEveryOperationAsAPersonaItWasNotGrantedAlikeWhetherItExistsOrNot() async throws {
        try await Self.with { home in
            let service = home.service, client = Self.hestiaClient
            let fact = try await service.remember(persona: "athena", content: "The vendor contract renews on 1 March.", in: .slice(.semantic), .local)
            for persona in ["athena", "zeus"] {
                let calls: [(String, () async throws -> Void)] = [
                    ("show", { _ = try await service.persona(persona, client) }),
                    ("recall", { _ = try await service.recall(persona: persona, query: "contract", client) }),
                    ("remember", { _ = try await service.remember(persona: persona, content: "x", in: .slice(.semantic), client) }),
                    ("update", { _ = try await service.update(persona: persona, id: fact.id, basedOn: 1, change: .init(content: "y"), client) }),
                    ("forget", { _ = try await service.forget(id: fact.id, persona: persona, client) }),
                    ("history", { _ = try await service.history(id: fact.id, persona: persona, client) }),
                    ("say", { _ = try await service.say(persona: persona, message: "hello", client) }),
                    ("records", { _ = try await service.records(persona: persona, slice: .semantic, client) }),
                ]
                for (name, call) in calls {
                    let error = await Self.error(call)
                    #expect(error?.code == .denied, "\(name) as \(persona)")
                    #expect(error?.description == "key-hestia may not act as persona '\(persona)'", "\(name) as \(persona)")
                }
            }
            #expect(try await service.personas(client).map(\.name.rawValue) == ["hestia"])
            // Nothing changed: the fact is still at its first version.
            #expect(try await service.history(id: fact.id, persona: nil, .local).versions.count == 1)
        }
    }

    @Test func onlyTheOperatorActsOnTheWholeHomeWithoutAPersona() async throws {
        try await Self.with { home in
            let service = home.service
            let fact = try await service.remember(persona: "hestia", content: "The plants are watered on Fridays.", in: .slice(.semantic), .local)
            #expect(await Self.error { _ = try await service.history(id: fact.id, persona: nil, Self.hestiaClient) }?.code == .denied)
            #expect(await Self.error { _ = try await service.forget(id: fact.id, persona: nil, Self.hestiaClient) }?.code == .denied)
            // As hestia, the client may.
            #expect(try await service.history(id: fact.id, persona: "hestia", Self.hestiaClient).versions.count == 1)
            let receipt = try await service.forget(id: fact.id, persona: nil, reason: "operator", .local)
            #expect(receipt.versions == 1)
        }
    }

    @Test func aConversationResumesOnlyForTheCallerThatStartedIt() async throws {
        try await Self.with { home in
            let service = home.service
            let first = try await service.say(persona: "hestia", message: "Hello.", Self.hestiaClient)
            let second = try await service.say(persona: "hestia", message: "Again.", conversation: first.conversation, Self.hestiaClient)
            #expect(second.conversation == first.conversation && second.number == 2)
            let other = RequestContext(principal: .client("key-other", personas: ["hestia"]))
            let stolen = await Self.error { _ = try await service.say(persona: "hestia", message: "Hi.", conversation: first.conversation, other) }
            let unknown = await Self.error { _ = try await service.say(persona: "hestia", message: "Hi.", conversation: "c-none", other) }
            #expect(stolen?.code == .notFound && unknown?.code == .notFound)
            #expect(stolen?.description == unknown?.description.replacingOccurrences(of: "c-none", with: first.conversation))
        }
    }

    @Test func theLeastRecentlyUsedConversationIsLetGoPastTheCapacity() async throws {
        try await Self.with { home in
            let service = TroupeService(runtime: home.runtime, maxConversations: 2)
            let a = try await service.say(persona: "hestia", message: "One.", .local).conversation
            let b = try await service.say(persona: "hestia", message: "Two.", .local).conversation
            _ = try await service.say(persona: "hestia", message: "One again.", conversation: a, .local)
            _ = try await service.say(persona: "hestia", message: "Three.", .local)
            #expect(try await service.say(persona: "hestia", message: "Still here?", conversation: a, .local).number == 3)
            #expect(await Self.error { _ = try await service.say(persona: "hestia", message: "Gone?", conversation: b, .local) }?.code == .notFound)
        }
    }

    @Test func argumentsAreCheckedAgainstTheOperationsSchemaBeforeAnythingRuns() async throws {
        try await Self.with { home in
            let service = home.service
            do {
                _ = try await service.call(.remember, ["persona": .string("athena"), "content": .string("x"), "slice": .string("semantic"), "importance": .number(1.5)], .local)
                Issue.record("an importance of 1.5 was accepted")
            } catch let error as ArgumentError {
                #expect(error.field == "importance" && error.description == "invalid argument 'importance': must be at least 0 and at most 1")
            }
            #expect(try await service.records(persona: "athena", slice: .semantic, .local).isEmpty)
            for operation in Operation.allCases {
                guard case .object(let schema) = operation.schema else { Issue.record("\(operation)"); continue }
                #expect(schema["type"] == .string("object") && schema["additionalProperties"] == .bool(false), "\(operation)")
            }
        }
    }
}

@Suite("Error table")
struct ErrorTableTests {
    @Test func everyCodeHasAStatusAndTheCLIKeepsItsExitCodes() {
        #expect(ErrorTable.entry(.denied).httpStatus == 403)
        #expect(ErrorTable.entry(.notFound).httpStatus == 404)
        #expect(ErrorTable.entry(.conflict).httpStatus == 409)
        #expect(ErrorTable.entry(.invalidInput).httpStatus == 400)
        #expect(ErrorTable.entry(.unavailable).httpStatus == 503)
        #expect(ErrorTable.entry(for: CancellationError()).httpStatus == 500)
        #expect(ErrorTable.entry(.conflict).exitCode == 1 && ErrorTable.usageExitCode == 2)
    }
}
