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
        await eventually { (try? await home.runtime.formation.pending().isEmpty) ?? false }
    }

    @Test func rememberThatKeepsAFactBeforeTheReply() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        let record = try await conversation.turn("remember that Ana lives in Porto", to: "athena")
        let fact = try #require(record.written.first { $0.what == .fact })
        #expect(fact.content == "Ana lives in Porto")
        let stored = try await home.runtime.record(fact.id)
        #expect(Provenance(stored.metadata)?.summary == "said by user in turn 1 · a person's words, trust 4/4")
        #expect(MemoryFormation.field("subject", of: stored) == "ana" && MemoryFormation.field("attribute", of: stored) == "location")
        // Recalled in the same turn: kept before the model was asked.
        #expect(record.recalled.contains { $0.record.id == fact.id })
        await home.stop()
    }

    @Test func aFactSaidAgainByTheSameSourceChangesNothingAndByAnotherPersonStrengthensIt() async throws {
        let home = try await Home()
        let conversation = try await conversation(home)
        _ = try await conversation.turn("remember that the staging database is on host db-7", to: "athena")
        let before = try await semantic(home)
        let again = try await conversation.turn("Remember: The staging database is on host DB-7.", to: "athena")
        #expect(!again.written.contains { $0.slice == .semantic }, "repetition by one source never strengthens")
        #expect(try await semantic(home).map { [$0.id, $0.content, "\($0.version)", "\($0.importance)"] } == before.map { [$0.id, $0.content, "\($0.version)", "\($0.importance)"] })
        let other = try await conversation.turn("remember that the staging database is on host db-7", to: "athena", from: "ana")
        #expect(other.written.first?.what == .strengthened)
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
        /// Stands for a capable server (only those read facts; the embedded model never does).
        var description: BackendDescription { BackendDescription(kind: "openai", model: "slow", location: "-", contextLength: 4096) }

        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            let reading = request.messages.first?.content.hasPrefix("You label facts") == true
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
        for i in 1...5 { _ = try await conversation.turn("The build takes \(i + 10) minutes.", to: "athena") }
        #expect(await formed(home))
        // Five turns faster than their formation: the readings still came one by one, in order,
        // from the conversation's backend (not the runtime's default).
        #expect(reader.read == (1...5).map { "Speaker: user\n1. The build takes \($0 + 10) minutes" })
        #expect(reader.most == 1)
        await home.stop()
    }
}

/// What a person said against what a model made up, on both stores: a model's claim never
/// replaces or swallows a person's fact, a model's words form a fact only when a person's words
/// support them, and a quoted reply is the model's, not the person's who quoted it.
@Suite("Memory that stays true", .serialized)
struct TrueMemoryTests {
    static let backends: [RuntimeConfig.Storage.Backend] = [.sqlite, .postgres]

    func semantic(_ home: Home, _ owner: PersonaID) async throws -> [MemoryRecord] {
        try await home.runtime.store.query(MemoryQuery(owners: [owner], slices: [.semantic]))
    }

    @Test(arguments: backends)
    func aModelsClaimCannotSupersedeOrSwallowAPersonsFact(storage: RuntimeConfig.Storage.Backend) async throws {
        let home = try await Home(storage: storage)
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(ScriptedBackend { _ in "Noted." }, for: ["athena", "hestia"])
        _ = try await conversation.turn("remember that our freeze starts on 3 March", to: "athena")
        let stated = try #require(try await semantic(home, "athena").first)

        // hestia (a model) says otherwise, to athena: kept beside the fact, disputed; the fact
        // stays as it was, version 1.
        let grounded = Provenance(saidBy: "hestia", conversation: conversation.id, turn: 2, source: .persona, method: .rules)
        let persona = try await home.runtime.persona("athena")
        let formation = MemoryFormation(persona: persona, runtime: home.runtime)
        let written = try await formation.keep([Fact(text: "Our freeze starts on 1 May", speaker: "hestia")], provenance: grounded)
        #expect(written.map(\.what) == [.disputed] && written.first?.disputes == stated.id)
        let after = try await semantic(home, "athena")
        #expect(after.count == 2)
        let kept = try #require(after.first { $0.id == stated.id })
        #expect(kept.version == 1 && kept.content == stated.content)
        let claim = try #require(after.first { $0.id != stated.id })
        #expect(claim.tags.contains(MemoryFormation.disputedTag) && MemoryFormation.field("disputes", of: claim) == stated.id)
        // The same value again from the model: not a strengthening of the person's fact.
        _ = try await formation.keep([Fact(text: "our freeze starts on 3 March", speaker: "hestia")], provenance: grounded)
        #expect(try await home.runtime.record(stated.id).version == 1)

        // The person's own update wins, and the old value stays in the history.
        _ = try await conversation.turn("Our freeze now starts on 17 April.", to: "athena")
        let history = try await home.runtime.history(stated.id)
        #expect(history.versions.map(\.content) == ["our freeze starts on 3 March", "Our freeze now starts on 17 April"])
        #expect(history.versions[0].validTo != nil)
        await home.stop()
    }

    @Test func aRepliesWordsFormFactsOnlyWhenAPersonSaidThem() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        // A person tells athena one thing; athena's reply repeats it and invents another.
        let reply = "The on-call rota lives in the ops wiki under Rotas. The on-call rota is a group that helps people with their finances."
        try await conversation.use(ScriptedBackend { _ in reply }, for: ["athena"])
        try await conversation.use(ScriptedBackend { _ in "Noted." }, for: ["hestia"])
        _ = try await conversation.turn("The on-call rota lives in the ops wiki under Rotas.", to: "athena")
        // athena's reply, said to hestia: a model's words.
        _ = try await conversation.turn(reply, to: "hestia", from: "athena")
        let facts = try await semantic(home, "hestia")
        #expect(facts.map(\.content) == ["The on-call rota lives in the ops wiki under Rotas"], "only the grounded sentence")
        #expect(facts.allSatisfy { Provenance($0.metadata)?.source == .persona && Provenance($0.metadata)?.saidBy == "athena" })
        await home.stop()
    }

    @Test func aQuotedReplyIsTheModelsNotThePersonsWhoQuotedIt() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(ScriptedBackend { _ in "Noted." }, for: ["athena"])
        let quoted = Utterance("The budget office approved 4 million for the data centre.", speaker: "hestia", source: .persona)
        let record = try await conversation.turn(
            "remember that the payments dashboard password is rotated by the security team.", to: "athena", from: "user", quoting: quoted)
        #expect(record.message.contains("(Before that, hestia said: "))
        let facts = try await semantic(home, "athena")
        #expect(facts.map(\.content) == ["the payments dashboard password is rotated by the security team."])
        // The quote sits in working memory as hestia's, a model's words.
        let working = try await home.runtime.persona("athena").workingMemory()
        let quote = try #require(working.first { $0.content == quoted.text })
        #expect(Provenance(quote.metadata)?.source == .persona && Provenance(quote.metadata)?.saidBy == "hestia")
        await home.stop()
    }

    @Test func thirtyRememberedFactsInARowAreThirtyMemories() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(ScriptedBackend { _ in "Noted." }, for: ["athena"])
        let services = ["billing", "search", "checkout", "ledger", "auth", "media", "mail", "export", "import", "notify"]
        let facts = services.flatMap { service in
            ["remember that the \(service) service is owned by team \(service.capitalized)",
             "remember that the \(service) service listens on port \(8000 + service.count * 7)",
             "remember that the \(service) service runs version \(service.count).\(service.count + 2).0"]
        }
        for fact in facts { _ = try await conversation.turn(fact, to: "athena") }
        let kept = try await semantic(home, "athena")
        #expect(kept.count == 30, "\(kept.map(\.content))")
        await home.stop()
    }
}
