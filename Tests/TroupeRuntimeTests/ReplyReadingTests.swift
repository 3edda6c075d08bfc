import Foundation
import Testing
import TroupeConfig
import TroupeCore
@testable import TroupeRuntime

/// What a session reads in a reply (markers only where they stand as markers), and what of the
/// prompt a reply may not keep.
@Suite("Reading replies")
struct ReplyReadingTests {
    @Test func doneEndsARunOnlyAsALineOfItsOwn() {
        #expect(SessionReplyReading.saysDone("We agree.\nDONE"))
        #expect(SessionReplyReading.saysDone("Decision: PostgreSQL.\n\n**DONE.**"))
        #expect(!SessionReplyReading.saysDone("We are not DONE with the migration yet."))
        #expect(!SessionReplyReading.saysDone("DONE-ness is a matter of opinion"))
        #expect(!SessionReplyReading.saysDone("Done is better than perfect."))
    }

    @Test func aStopPhraseMatchesWholeWords() {
        #expect(SessionReplyReading.holds("we are finished", in: "Good. We are finished, thanks all."))
        #expect(!SessionReplyReading.holds("we are finished", in: "we are finishedness itself"))
        #expect(!SessionReplyReading.holds("end", in: "We extend the deadline."))
        #expect(!SessionReplyReading.holds("", in: "anything"))
    }

    @Test func decisionsAreReadAnywhereOnALine() {
        let reply = """
            We weighed both. **Decision:** PostgreSQL for server mode.
            Decision: keep SQLite for one machine
            - decision: backups nightly
            I said "Decision:" and then I started over.
            The decision: is not made here.
            No decision yet on backups.
            """
        #expect(SessionReplyReading.decisions(in: reply) == ["PostgreSQL for server mode.", "keep SQLite for one machine", "backups nightly"])
        #expect(SessionReplyReading.decisions(in: "Decision:   \nnothing") == [])
        #expect(SessionReplyReading.decisions(in: "indecision: none") == [])
    }

    @Test func whatLeaksOfThePromptIsCutFromTheReply() {
        let athena = PersonaDefinition(name: PersonaID(rawValue: "athena")!, displayName: "Athena")
        #expect(ReplyCleanup.cleaned("Athena:\n<recalled-memories>\n- semantic from user", persona: athena) == "")
        #expect(ReplyCleanup.cleaned("athena says: The launch is on 21 March.", persona: athena) == "The launch is on 21 March.")
        #expect(ReplyCleanup.cleaned("The launch is on 21 March.</recalled-memories> more", persona: athena) == "The launch is on 21 March.")
        #expect(ReplyCleanup.cleaned("Sure.<|im_end|><|im_start|>user", persona: athena) == "Sure.")
        let plain = "  Athena thinks: two options.\n"
        #expect(ReplyCleanup.cleaned(plain, persona: athena) == plain, "nothing to cut: kept as it came")
    }

    @Test func aPromptCarriesAFewOfThePersonasRulesTheMostRelevantFirst() {
        let name = PersonaID(rawValue: "athena")!
        var definition = PersonaDefinition(name: name)
        let texts = [
            "Write a decision record for every choice that is expensive to reverse.",
            "Keep dependencies pointing inward.",
            "Every module boundary needs a named owner.",
            "Prefer additive, versioned changes to storage schemas.",
            "Reject a design with no answer to how it is tested.",
        ]
        definition.procedural = texts.enumerated().map { PersonaDefinition.ProceduralSeed(kind: .rule, text: $1, importance: 0.9 - Double($0) / 10, tags: []) }
        let records = definition.procedural.map { seed in
            MemoryRecord(id: definition.seedID(seed), owner: name, slice: .procedural, content: seed.text, importance: seed.importance, source: "seed", createdAt: Date(timeIntervalSince1970: 0))
        }
        let chosen = PromptAssembly.rules(records, of: definition, for: "How should we version the storage schemas?")
        #expect(chosen.count == PromptAssembly.ruleLimit)
        #expect(chosen.first?.content == texts[3], "the rule the message is about comes first")
        #expect(chosen.dropFirst().map(\.content) == [texts[0], texts[1]], "then the most important")
    }
}
