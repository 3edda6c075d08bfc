import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// `troupe chat`: one turn of a conversation through the service layer, as the local admin.
@Suite("troupe chat", .serialized, .cleanups)
struct ChatCLITests {
    @Test func oneTurnIsStoredWithItsConversationAndAnUnknownPersonaExitsOne() async throws {
        let (home, config) = try SessionCLITests.home(llm: SessionCLITests.offline)
        let run = try await CLITests.troupe(["chat", "--persona", "athena", "--json", "Who waters the plants this week?"], home: home, config: config)
        #expect(run.status == 0, "\(run.stderr)")
        let turn = try JSONValue.parse(Array(run.stdout.utf8))
        guard case .object(let object) = turn, case .string(let conversation)? = object["conversation"] else {
            Issue.record("not a turn: \(run.stdout)")
            return
        }
        #expect(object["persona"] == .string("athena") && object["turn"] == .number(1) && object["prompt"] != nil)
        #expect(object["message"] == .string("Who waters the plants this week?"))
        // The exchange is in athena's memory, from that conversation.
        let exported = try await CLITests.troupe(["memory", "export", "--persona", "athena", "--slice", "episodic"], home: home, config: config)
        #expect(exported.stdout.contains("Who waters the plants this week?") && exported.stdout.contains(conversation), "\(exported.stdout)")

        let plain = try await CLITests.troupe(["chat", "--persona", "athena", "Hello?"], home: home, config: config)
        #expect(plain.status == 0 && !plain.stdout.isEmpty && !plain.stdout.hasPrefix("{"), "\(plain.stdout)")
        let unknown = try await CLITests.troupe(["chat", "--persona", "zeus", "Hello?"], home: home, config: config)
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("error: unknown persona 'zeus'"), "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)
    }
}
