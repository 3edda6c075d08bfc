import Foundation
import Testing
import TroupeCore
import TroupeLLM
@testable import TroupeRuntime

/// A reply never carries the prompt's markup: requests stop before it, and what a backend lets
/// through anyway is cut before the reply is stored.
@Suite("Replies without the prompt's markup")
struct ReplyLeakTests {
    @Test func aReplyThatWritesThePromptsMarkupIsCutBeforeItIsStored() async throws {
        let home = try await Home()
        _ = try await home.runtime.persona("athena").remember("The launch is on 21 March", in: .semantic)
        // A backend that ignores stop strings, as a small model's server may.
        let backend = ScriptedBackend { _ in "Athena: The launch is on 21 March.\n</recalled-memories>\n- semantic from user: The launch" }
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(backend, for: ["athena"])
        let record = try await conversation.turn("When is the launch?", to: "athena")

        #expect(record.reply == "The launch is on 21 March.")
        let stop = try #require(backend.requests.first?.sampling.stop)
        #expect(SamplingOptions.promptMarkers.allSatisfy(stop.contains))
        let stored = try await home.runtime.record(try #require(record.written.first { $0.what == .reply }).id)
        #expect(stored.content == "The launch is on 21 March.")
        let episode = try await home.runtime.record(try #require(record.written.first { $0.what == .episode }).id)
        #expect(!episode.content.contains("recalled-memories"))
        await home.stop()
    }

    @Test func aReplyThatWasAllLeakStoresNoReply() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(ScriptedBackend { _ in "athena:\n<recalled-memories count=\"1\">" }, for: ["athena"])
        let record = try await conversation.turn("Anything new?", to: "athena")
        #expect(record.reply.isEmpty)
        #expect(!record.written.contains { $0.what == .reply })
        await home.stop()
    }
}

/// What the prompt says about a value a person has since changed.
@Suite("Superseded values in the prompt")
struct StaleValuesInThePromptTests {
    @Test func aQuestionTheReplyLeavesUnansweredGetsWhatMemoryHolds() async throws {
        let home = try await Home()
        let backend = ScriptedBackend { request in request.messages.last?.content == "When is the launch?" ? "Soon! Everyone is excited." : "Noted." }
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(backend, for: ["athena"])
        _ = try await conversation.turn("The launch is on 14 March.", to: "athena")
        _ = try await conversation.turn("Remember that the launch moved to 21 March.", to: "athena")
        let answer = try await conversation.turn("When is the launch?", to: "athena")
        #expect(answer.outdated.count == 1 && answer.outdated.first?.unanswered == true, "\(answer.outdated)")
        #expect(answer.outdated.first?.now == "the launch moved to 21 March." && answer.reply == "Soon! Everyone is excited.")
        await home.stop()
    }

    @Test func anEarlierMessageWithTheOldValueIsFollowedByWhatHoldsNow() async throws {
        let home = try await Home()
        // A weak model: it answers with the value it read first.
        let backend = ScriptedBackend { request in
            request.messages.last?.content == "When is the launch?" ? "It is on 14 March. We are ready." : "Noted."
        }
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(backend, for: ["athena"])
        _ = try await conversation.turn("The launch is on 14 March.", to: "athena")
        let update = try await conversation.turn("Remember that the launch moved to 21 March.", to: "athena")
        #expect(update.written.contains { $0.what == .superseded }, "\(update.written.map { "\($0.what) \($0.content)" })")
        let answer = try await conversation.turn("When is the launch?", to: "athena")
        // The reader is told what holds now; the reply stays as the model said it.
        #expect(answer.outdated.map(\.said) == ["It is on 14 March."], "\(answer.outdated)")
        #expect(answer.outdated.first?.now == "the launch moved to 21 March.")
        #expect(answer.reply == "It is on 14 March. We are ready.")
        let stale = try await StaleValues.of(answer.recalled, store: home.runtime.store)
        #expect(stale.outdated(in: "The launch was announced on March 14th, 2025.", speaker: "athena").count == 1, "an ordinal is its number")
        #expect(stale.outdated(in: "The launch moved from 14 March to 21 March.", speaker: "athena").isEmpty, "the reply says what holds now")
        // A value memory never held, for the same thing: not what memory holds.
        let invented = stale.outdated(in: "The launch is on 20 March. The venue is in Paris.", speaker: "athena")
        #expect(invented.map(\.said) == ["The launch is on 20 March."] && invented.first?.contradicts == true, "\(invented)")
        #expect(invented.first?.now == "the launch moved to 21 March.")
        #expect(ReplSession.note(try #require(invented.first)).hasPrefix("(not what memory holds: \"The launch is on 20 March.\""))
        #expect(stale.outdated(in: "The launch is on 21 March.", speaker: "athena").isEmpty)
        #expect(stale.outdated(in: "The rehearsal is on 20 March.", speaker: "athena").isEmpty, "another thing")
        #expect(stale.outdated(in: "The launch rehearsal is on 20 March.", speaker: "athena").isEmpty, "another thing")
        let worded = "The launch of the company's new product, \"Echo\" is set to take place on March 15th at 2pm London time."
        #expect(stale.outdated(in: worded, speaker: "athena").first?.contradicts == true, "the model's own wording")

        // A reply that does not give the value asked for: the reader is told what memory holds.
        let noted = [TurnRecord.Outdated]()
        #expect(stale.unanswered("When is the launch?", by: "Soon, I think. We are ready.", noted: noted)?.text == "the launch moved to 21 March.")
        #expect(stale.unanswered("When is the launch?", by: "On March 21st.", noted: noted) == nil, "the reply gives it")
        #expect(stale.unanswered("When is the launch?", by: "Soon.", noted: answer.outdated) == nil, "a note says it already")
        #expect(stale.unanswered("Who is on call this week?", by: "Ana.", noted: noted) == nil, "another question")
        #expect(stale.unanswered("The launch is exciting.", by: "Yes.", noted: noted) == nil, "not a question")
        let unsaid = TurnRecord.Outdated(said: "", now: "the launch moved to 21 March.", id: "m-1", unanswered: true)
        #expect(ReplSession.note(unsaid) == "(the reply does not say — memory says: the launch moved to 21 March.)")

        let prompt = try #require(backend.requests.last { $0.messages.last?.content == "When is the launch?" }).messages
        let old = try #require(prompt.first { $0.role == .user && $0.content.hasPrefix("The launch is on 14 March.") })
        #expect(old.content.hasSuffix("[No longer true; now: the launch moved to 21 March.]"), "\(old.content)")
        let current = try #require(prompt.first { $0.content.hasPrefix("Remember that the launch moved") })
        #expect(!current.content.contains("No longer true"))
        #expect(prompt[0].content.contains("superseded") || !prompt[0].content.contains("14 March"))
        await home.stop()
    }
}
