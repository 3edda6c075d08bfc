import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeServiceTestSupport

/// Session runs through the service: a session sent as text runs for the operator only,
/// bounded and checked before anything runs; the runs kept in the home have a status and a
/// transcript.
@Suite("Service layer: sessions")
struct SessionServiceTests {
    typealias Service = TroupeServiceTests

    static let session = ServiceHome.twoRoundSession

    static func argumentError(_ call: () async throws -> Void) async -> ArgumentError? {
        do { try await call() } catch let error as ArgumentError { return error } catch { return nil }
        return nil
    }

    static func sessions(_ home: ServiceHome) -> URL { home.directory.appendingPathComponent("sessions") }

    @Test func theOperatorRunsASessionSentAsTextAndReadsItsStatusAndTranscript() async throws {
        try await Service.with { home in
            let service = home.service
            let answer = try await service.call(.runSession, ["name": .string("plants"), "session": .string(Self.session)], .local)
            #expect(answer["stopped_by"]?.text == "max_rounds" && answer["turns"] == .number(2) && answer["passed"] == .bool(true), "\(answer)")
            #expect(answer["transcript"]?.text == Self.sessions(home).appendingPathComponent("plants/transcript.md").path)

            #expect(try await service.sessionRuns(.local).map(\.name) == ["plants"])
            let status = try await service.sessionRun(named: "plants", .local)
            #expect(status.ended && status.turns == 2 && status.stoppedBy == "max_rounds" && status.passed == true)
            #expect(status.title == "Who waters the plants" && status.expectations.map(\.passed) == [true])
            #expect(try await service.sessionTranscript(named: "plants", .local).contains("Who waters the plants"))
            #expect(await Service.error { _ = try await service.sessionRun(named: "nothing", .local) }?.code == .notFound)
            // What the run said went into the home's memory, as troupe run's would.
            let episodes = try await service.records(persona: "athena", slice: .episodic, .local)
                + service.records(persona: "hestia", slice: .episodic, .local)
            #expect(!episodes.isEmpty)
        }
    }

    @Test func aClientNeitherRunsNorReadsSessions() async throws {
        try await Service.with { home in
            let service = home.service, client = Service.hestiaClient
            let file = home.directory.appendingPathComponent("plants.yaml")
            try Data(Self.session.utf8).write(to: file)
            let calls: [(String, () async throws -> Void)] = [
                ("run", { _ = try await service.runSession(named: "plants", text: Self.session, client) }),
                ("run_session", { _ = try await service.call(.runSession, ["name": .string("plants"), "session": .string(Self.session)], client) }),
                ("file", { _ = try service.sessionDefinition(file: file, client) }),
                ("list", { _ = try await service.sessionRuns(client) }),
                ("status", { _ = try await service.sessionRun(named: "plants", client) }),
                ("transcript", { _ = try await service.sessionTranscript(named: "plants", client) }),
            ]
            for (name, call) in calls { #expect(await Service.error(call)?.code == .denied, "\(name)") }
            #expect(!FileManager.default.fileExists(atPath: Self.sessions(home).path))
        }
    }

    @Test func aSessionSentAsTextIsBoundedAndCheckedBeforeAnythingRuns() async throws {
        try await Service.with { home in
            let service = home.service
            let long = await Self.argumentError {
                _ = try await service.runSession(
                    named: "long", text: Self.session.replacingOccurrences(of: "max_rounds: 2", with: "max_rounds: 50"), .local)
            }
            #expect(long?.field == "session" && long?.message.hasPrefix("max_rounds is 50") == true, "\(String(describing: long))")
            let stranger = await Self.argumentError {
                _ = try await service.runSession(
                    named: "stranger", text: Self.session.replacingOccurrences(of: "[athena, hestia]", with: "[athena, zeus]"), .local)
            }
            #expect(stranger?.field == "session" && stranger?.message.contains("unknown persona 'zeus'") == true, "\(String(describing: stranger))")
            for name in ["../escape", ".hidden", "a/b", "", String(repeating: "x", count: 65)] {
                let error = await Self.argumentError { _ = try await service.runSession(named: name, text: Self.session, .local) }
                #expect(error?.field == "name", "\(name)")
            }
            #expect(await Self.argumentError { _ = try await service.sessionRun(named: "..", .local) }?.field == "name")
            #expect(!FileManager.default.fileExists(atPath: Self.sessions(home).path))
            #expect(!FileManager.default.fileExists(atPath: home.directory.appendingPathComponent("escape").path))
        }
    }
}
