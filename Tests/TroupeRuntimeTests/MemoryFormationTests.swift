import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeLLM
@testable import TroupeRuntime
import TroupeStore
import TroupeStoreConformance

/// Facts kept from conversations: explicitly and after the reply, without duplicates piling up,
/// and with a contradiction superseding (never deleting) the old fact.
@Suite("Memory formation")
struct MemoryFormationTests {
    func conversation(_ home: Home) async throws -> Conversation {
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(ScriptedBackend(), for: ["athena", "hestia"])
        return conversation
    }

    func semantic(_ home: Home, _ owner: PersonaID = "athena") async throws -> [MemoryRecord] {
        try await home.runtime.store.query(MemoryQuery(owners: [owner], slices: [.semantic]))
    }

    /// Waits until the background formation of every turn so far is done.
    func formed(_ home: Home) async -> Bool {
        await eventually { home.runtime.formation.pending.isEmpty }
    }

    @Test func rememberThatKeepsAFactBeforeTheReply() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        let record = try await conversation.turn("remember that Ana lives in Porto", to: "athena")
        let fact = try #require(record.written.first { $0.what == .fact })
        #expect(fact.content == "Ana lives in Porto")
        let stored = try await home.runtime.record(fact.id)
        #expect(Provenance(stored.metadata)?.summary == "said by user in turn 1")
        #expect(MemoryFormation.field("subject", of: stored) == "ana" && MemoryFormation.field("relation", of: stored) == "location")
        // Recalled in the same turn: kept before the model was asked.
        #expect(record.recalled.contains { $0.record.id == fact.id })
        await home.stop()
    }

    @Test func aFactSaidAgainStrengthensTheMemoryInsteadOfAddingOne() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        _ = try await conversation.turn("remember that the staging database is on host db-7", to: "athena")
        let before = try await semantic(home)
        let again = try await conversation.turn("Remember: The staging database is on host DB-7.", to: "athena")
        #expect(again.written.first?.what == .strengthened)
        let after = try await semantic(home)
        #expect(after.count == before.count)
        #expect(after[0].importance > before[0].importance && after[0].version == 2)
        await home.stop()
    }

    @Test func aContradictionSupersedesTheOldFactAndKeepsItInTheHistory() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        let first = try await conversation.turn("remember that Ana lives in Porto", to: "athena")
        let id = try #require(first.written.first { $0.what == .fact }).id
        let second = try await conversation.turn("remember that Ana moved to Lisbon", to: "athena")
        let change = try #require(second.written.first)
        #expect(change.what == .superseded && change.id == id && change.replacedVersion == 1)
        let current = try await semantic(home).filter { MemoryFormation.field("subject", of: $0) == "ana" }
        #expect(current.map(\.content) == ["Ana moved to Lisbon"])  // not side by side
        let history = try await home.runtime.history(id)
        #expect(history.versions.map(\.content) == ["Ana lives in Porto", "Ana moved to Lisbon"])  // not deleted
        #expect(history.versions[0].validTo != nil)
        await home.stop()
    }

    @Test func factsAreFormedAfterTheReplyFromWhatWasSaid() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        _ = try await conversation.turn("Bruno works at Initech. What should we ask him? The release is on Thursday.", to: "athena")
        #expect(await formed(home))
        let facts = try await semantic(home).map(\.content).sorted()
        #expect(facts == ["Bruno works at Initech", "The release is on Thursday"])
        // The turn's record learns what formation wrote.
        #expect(await eventually { await conversation.lastTurn?.written.filter { $0.what == .fact }.count == 2 })
        _ = try await conversation.turn("The release moved to Friday.", to: "athena")
        #expect(await formed(home))
        #expect(try await semantic(home).map(\.content).sorted() == ["Bruno works at Initech", "The release moved to Friday"])
        await home.stop()
    }

    @Test func formationStillQueuedWhenTheProcessEndsIsDoneByTheNext() async throws {
        let home = try await Home()
        // As if a process wrote the job down and died before doing it.
        await home.runtime.formation.enqueue(
            FormationJob(id: "f-1", persona: "hestia", conversation: "c-1", turn: 4, speaker: "user", message: "Carla leads the audit team."),
            runtime: home.runtime, conversation: nil)
        #expect(await formed(home))
        #expect(try await semantic(home, "hestia").map(\.content) == ["Carla leads the audit team"])
        // A job on file and not done is started by resume.
        let file = home.runtime.formation.file
        try #"{"conversation":"c-2","id":"f-2","message":"Dario is the new on-call lead.","persona":"hestia","speaker":"user","turn":1}"#
            .appending("\n").writeUnsynced(to: file)
        #expect(home.runtime.formation.pending.map(\.id) == ["f-2"])
        home.runtime.resumeFormation()
        #expect(await formed(home))
        #expect(try await semantic(home, "hestia").map(\.content).sorted() == ["Carla leads the audit team", "Dario is the new on-call lead"])
        #expect(!FileManager.default.fileExists(atPath: file.path))
        await home.stop()
    }

    @Test func aJobAnotherProcessLeftOnFileKeepsTheFileWhenThisProcessIsDone() async throws {
        let home = try await Home()
        let file = home.runtime.formation.file
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try #"{"conversation":"c-9","id":"other","message":"Elif runs the release.","persona":"hestia","speaker":"user","turn":2}"#
            .appending("\n").writeUnsynced(to: file)
        await home.runtime.formation.enqueue(
            FormationJob(id: "mine", persona: "hestia", conversation: "c-1", turn: 1, speaker: "user", message: "Carla leads the audit team."),
            runtime: home.runtime, conversation: nil)
        #expect(await eventually { home.runtime.formation.pending.map(\.id) == ["other"] })
        #expect(FileManager.default.fileExists(atPath: file.path), "the other process's job is still written down")
        home.runtime.resumeFormation()
        #expect(await formed(home))
        #expect(!FileManager.default.fileExists(atPath: file.path), "all done: the file starts over")
        await home.stop()
    }

    @Test func questionsPronounsAndSmallTalkAreNotFacts() {
        let facts = FactReading.sentences("Hi there! What is the plan? She said yes. Thanks. I prefer short meetings.", speaker: "user")
        #expect(facts.map(\.text) == ["I prefer short meetings"])
        #expect(facts.first?.subject == "user")
    }

    /// A backend that answers turns at once and reads facts slowly, counting how many readings
    /// are under way together.
    final class SlowFactReader: ChatBackend, Sendable {
        private struct State {
            var inFlight = 0
            var most = 0
            var read: [String] = []
        }

        private let state = LockedBox(State())
        /// The most readings under way together.
        var most: Int { state.value.most }
        /// The messages read for facts, in order.
        var read: [String] { state.value.read }
        var description: BackendDescription { BackendDescription(kind: "scripted", model: "slow", location: "-", contextLength: 4096) }

        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            let reading = request.messages.first?.content.hasPrefix("You extract facts") == true
            return AsyncThrowingStream { continuation in
                Task {
                    if reading {
                        self.state.withLock { state in
                            state.inFlight += 1
                            state.most = max(state.most, state.inFlight)
                            state.read.append(request.messages.last?.content ?? "")
                        }
                        try? await Task.sleep(for: .milliseconds(100))
                        self.state.withLock { $0.inFlight -= 1 }
                    }
                    continuation.yield(.delta(reading ? #"{"facts": []}"# : "Noted."))
                    continuation.yield(.finished(.stop, ChatUsage(promptTokens: 1, completionTokens: 1)))
                    continuation.finish()
                }
            }
        }
        func countTokens(_ messages: [ChatMessage]) async throws -> Int { OpenAIBackend.estimateTokens(messages) }
    }

    @Test func formationJobsRunOneAtATimeInTheirOrderWithTheConversationsModel() async throws {
        let home = try await Home()
        let reader = SlowFactReader()
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(reader, for: ["athena"])
        for i in 1...5 { _ = try await conversation.turn("Note \(i): the build takes ten minutes.", to: "athena") }
        #expect(await formed(home))
        // Five turns faster than their formation: the readings still came one by one, in order,
        // from the conversation's backend (not the runtime's default).
        #expect(reader.read == (1...5).map { "user says: Note \($0): the build takes ten minutes." })
        #expect(reader.most == 1)
        await home.stop()
    }
}
