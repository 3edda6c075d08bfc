import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeServiceTestSupport
import TroupeStore
import TroupeLLM

/// Consolidation over real turns (the offline backend replies): one dated summary per
/// conversation, every sentence word for word from the turn it names, a new version when the
/// conversation goes on, nothing written when nothing changed.
@Suite("Consolidation")
struct ConsolidationServiceTests {
    static let messages = [
        "The quarterly audit moved to 14 April. Can you remind me?",
        "Bellona signs off the audit this year.",
        "ok",
        "The invoices for March are still missing from the ledger.",
    ]

    /// Each `speaker: sentence` line of the summary, with the record of the turn its metadata names.
    static func traced(_ summary: MemoryRecord, in service: TroupeService) async throws -> [(line: String, turn: MemoryRecord)] {
        guard case .object(let m)? = summary.metadata, case .array(let sentences)? = m["sentences"] else { return [] }
        var out: [(String, MemoryRecord)] = []
        for sentence in sentences {
            guard case .object(let s) = sentence, case .string(let text)? = s["text"], case .string(let speaker)? = s["speaker"],
                case .string(let from)? = s["from"]
            else { continue }
            out.append(("\(speaker): \(text)", try await service.runtime.record(from)))
        }
        return out
    }

    @Test func aConversationBecomesOneDatedSummaryOfWhatWasSaid() async throws {
        let home = try await ServiceHome()
        do { try await Self.check(home.service) } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }

    static func check(_ service: TroupeService) async throws {
        var conversation: String?
        var episodes: [String] = []
        for message in Self.messages.prefix(3) {
            let turn = try await service.say(persona: "athena", message: message, conversation: conversation, .local)
            conversation = turn.conversation
            episodes += turn.written.filter { $0.slice == .episodic }.map(\.id)
        }
        #expect(episodes.count == 3)

        let first = try #require(try await service.consolidate(persona: "athena", .local)["athena"])
        #expect(first.written.count == 1 && first.updated == 0)
        let summary = try #require(first.written.first)
        let record = try await service.runtime.record(summary.id)
        #expect(record.slice == .episodic && record.tags == [EpisodeSummary.tag])
        #expect(summary.covers == episodes && summary.firstTurn == 1 && summary.lastTurn == 3)
        #expect(record.createdAt == (try await service.runtime.record(episodes[2])).createdAt, "dated at its last turn")
        let lines = record.content.split(separator: "\n").dropFirst().map(String.init)
        let traced = try await Self.traced(record, in: service)
        #expect(traced.map(\.line) == lines, "every line of the summary has its turn")
        for (line, turn) in traced {
            let sentence = line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            #expect(turn.content.contains(sentence), "'\(sentence)' is said in turn \(turn.id)")
            #expect(episodes.contains(turn.id))
        }
        #expect(lines.contains("user: The quarterly audit moved to 14 April."))
        #expect(lines.contains("user: Bellona signs off the audit this year."))
        #expect(!lines.contains { $0.contains("Can you remind me?") }, "a question is not a summary's sentence")

        let again = try #require(try await service.consolidate(persona: "athena", .local)["athena"])
        #expect(again.written.isEmpty && again.unchanged == 1)

        _ = try await service.say(persona: "athena", message: Self.messages[3], conversation: conversation, .local)
        let longer = try #require(try await service.consolidate(persona: "athena", .local)["athena"])
        #expect(longer.updated == 1 && longer.written.first?.covers.count == 4)
        let history = try await service.runtime.history(summary.id)
        #expect(history.versions.count == 2 && history.versions[0].validTo != nil, "the shorter summary stays in the history")
        #expect(try await service.runtime.record(summary.id).content.contains("user: The invoices for March are still missing from the ledger."))

        await #expect(throws: TroupeError.self) {
            try await service.consolidate(persona: "athena", RequestContext(principal: .client("app", personas: ["hestia"])))
        }
    }

    @Test func sentencesAreCutWhereTheyStandAndSpeakersAreReadFromTheTurn() {
        #expect(EpisodeSummary.pieces("One thing. Two things!\nThree: four? Five") == ["One thing.", "Two things!", "Three: four?", "Five"])
        let metadata = Provenance(saidBy: "user", conversation: "c1", turn: 2, source: .person, method: .verbatim).metadata
        let record = MemoryRecord(
            id: "e2", owner: "athena", slice: .episodic, content: "user: Note: the audit moved.\nIt is in April.\nathena: Noted: April it is.",
            source: "athena", createdAt: Date(timeIntervalSince1970: 0), metadata: .object(metadata))
        guard let (conversation, turn) = EpisodeSummary.turn(record, persona: "athena") else {
            Issue.record("the turn was not read")
            return
        }
        #expect(conversation == "c1" && turn.number == 2)
        #expect(turn.lines.map(\.speaker) == ["user", "athena"])
        #expect(turn.lines[0].text == "Note: the audit moved.\nIt is in April.")
        var imported = record
        imported.metadata = .object(Provenance(saidBy: "user", conversation: "import", turn: 0, source: .import, method: .imported).metadata)
        #expect(EpisodeSummary.turn(imported, persona: "athena") == nil, "an import's episodes are no conversation of this home")
    }
}

/// A model that answers with fixed text, as an OpenAI-compatible server would.
struct FixedModel: ChatBackend {
    let text: String
    var description: BackendDescription { BackendDescription(kind: "openai", model: "fixed", location: "test", contextLength: 4096) }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let text = text
        return AsyncThrowingStream { continuation in
            continuation.yield(.delta(text))
            continuation.yield(.finished(.stop, ChatUsage(promptTokens: 1, completionTokens: 1)))
            continuation.finish()
        }
    }

    func countTokens(_ messages: [ChatMessage]) async throws -> Int { messages.count }
}

extension ConsolidationServiceTests {
    /// A capable model's summary keeps only the sentences a turn holds: one it made up, or one
    /// merging two turns, is dropped; with nothing grounded the summary is extractive.
    @Test func aModelsSentencesAreKeptOnlyWhereATurnHoldsThem() async throws {
        let home = try await ServiceHome()
        do {
            let service = home.service
            var conversation: String?
            for message in Self.messages.prefix(3) {
                conversation = try await service.say(persona: "athena", message: message, conversation: conversation, .local).conversation
            }
            let model = FixedModel(text: """
                - user: The quarterly audit moved to 14 April.
                - user: Bellona signs off the audit.
                - user: The audit will be cancelled next year.
                - athena: Bellona moved the audit to 14 April.
                """)
            let report = try await service.runtime.consolidate("athena", model: model)
            let summary = try #require(report.written.first)
            #expect(summary.summarisedBy == "model:fixed" && summary.dropped == 2)
            #expect(summary.sentences.map(\.text) == ["The quarterly audit moved to 14 April.", "Bellona signs off the audit."])
            let record = try await service.runtime.record(summary.id)
            for sentence in summary.sentences {
                #expect(Grounded.holds(try await service.runtime.record(sentence.from).content, sentence.text))
            }
            #expect(record.content.hasSuffix("user: The quarterly audit moved to 14 April.\nuser: Bellona signs off the audit."))

            // A fourth turn, and a model that says nothing a turn holds: the summary is the extract.
            _ = try await service.say(persona: "athena", message: Self.messages[3], conversation: conversation, .local)
            let fallback = try await service.runtime.consolidate("athena", model: FixedModel(text: "user: Everyone loves audits."))
            #expect(fallback.updated == 1 && fallback.written.first?.summarisedBy == "extract")
        } catch {
            await home.stop()
            throw error
        }
        await home.stop()
    }
}

/// The test's own reading of "a turn holds the sentence": every word of it, in order.
enum Grounded {
    static func holds(_ turn: String, _ sentence: String) -> Bool {
        let held = words(turn)
        var at = held.startIndex
        for word in words(sentence) {
            guard let found = held[at...].firstIndex(of: word) else { return false }
            at = found + 1
        }
        return true
    }

    static func words(_ text: String) -> [String] { text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init) }
}
