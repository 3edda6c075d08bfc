import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeLLM
@testable import TroupeRuntime
import TroupeStore

/// Stands for a capable OpenAI-compatible server: turns get "Noted."; a request to label facts
/// gets JSON made by `label` from each numbered sentence (its number, its text). The real path,
/// llama.cpp's server holding the model to the schema, is tested in the CLI tests.
final class LabellingBackend: ChatBackend, Sendable {
    let label: @Sendable (Int, String) -> JSONValue?
    private let asked = LockedBox<[String]>([])
    /// The sentences sent to be labelled, in order.
    var labelled: [String] { asked.value }

    init(label: @escaping @Sendable (Int, String) -> JSONValue?) { self.label = label }

    var description: BackendDescription { BackendDescription(kind: "openai", model: "labeller", location: "-", contextLength: 4096) }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        var answer = "Noted."
        if request.messages.first?.content.hasPrefix("You label facts") == true {
            var facts: [JSONValue] = []
            for line in (request.messages.last?.content ?? "").split(separator: "\n").dropFirst() {
                let (number, text) = (Int(line.prefix { $0.isNumber }) ?? 0, String(line.drop { $0 != " " }.dropFirst()))
                asked.withLock { $0.append(text) }
                if let item = label(number, text) { facts.append(item) }
            }
            answer = String(decoding: try! JSONEncoder().encode(JSONValue.object(["facts": .array(facts)])), as: UTF8.self)
        }
        return AsyncThrowingStream { continuation in
            continuation.yield(.delta(answer))
            continuation.yield(.finished(.stop, ChatUsage(promptTokens: 1, completionTokens: 1)))
            continuation.finish()
        }
    }

    func countTokens(_ messages: [ChatMessage]) async throws -> Int { OpenAIBackend.estimateTokens(messages) }

    static func item(_ sentence: Int, _ subject: String, _ attribute: String, _ value: String, ends: Bool = false) -> JSONValue {
        .object([
            "sentence": .number(Double(sentence)), "subject": .string(subject), "attribute": .string(attribute), "value": .string(value),
            "ends": .bool(ends),
        ])
    }
}

@Suite("A capable model's reading of facts", .serialized)
struct ModelReadingTests {
    static let backends: [RuntimeConfig.Storage.Backend] = [.sqlite, .postgres]

    func semantic(_ home: Home) async throws -> [MemoryRecord] {
        try await home.runtime.store.query(MemoryQuery(owners: ["athena"], slices: [.semantic]))
    }

    /// Plays `messages` to athena, the person speaking, with `backend` answering.
    func play(_ messages: [String], _ backend: any ChatBackend, storage: RuntimeConfig.Storage.Backend = .sqlite) async throws -> Home {
        let home = try await Home(storage: storage)
        let conversation = Conversation(runtime: home.runtime, formsInline: true)
        try await conversation.use(backend, for: ["athena"])
        for message in messages { _ = try await conversation.turn(message, to: "athena") }
        return home
    }

    @Test func aLabelIsKeptOnlyWhereItsWordsAreInTheSentence() {
        let sentences = ["I use Neovim for all my editing", "The freeze starts on 3 March"]
        func read(_ item: JSONValue) -> ModelReading? { ModelReading.read(item, sentences: sentences, speaker: "Ana")?.1 }
        #expect(read(LabellingBackend.item(1, "I", "Editor", "Neovim")) == ModelReading(subject: "ana", attribute: "editor", value: "neovim", ends: false))
        #expect(read(LabellingBackend.item(2, "the freeze", "start date", "3 March"))?.subject == "freeze")
        #expect(read(LabellingBackend.item(1, "I", "editor", "Emacs")) == nil, "a value the sentence does not name")
        #expect(read(LabellingBackend.item(2, "the launch", "date", "3 March")) == nil, "a subject the sentence does not name")
        #expect(read(LabellingBackend.item(3, "I", "editor", "Neovim")) == nil, "no third sentence")
        #expect(read(LabellingBackend.item(1, "I", "", "Neovim")) == nil && read(LabellingBackend.item(1, "I", "editor 2", "Neovim")) == nil)
        #expect(read(LabellingBackend.item(1, "I", "a b c d e", "Neovim")) == nil, "an attribute is one to four words")
        #expect(read(.object(["sentence": .number(1), "subject": .string("I"), "attribute": .string("editor"), "value": .string("Neovim"),
                              "ends": .bool(false), "note": .string("extra")])) == nil, "a key the schema does not have")
        #expect(read(.object(["sentence": .number(1.5), "subject": .string("I"), "attribute": .string("editor"), "value": .string("Neovim")])) == nil)
        #expect(read(.string("Neovim")) == nil)
        // What SmolLM2-135M answered through llama.cpp's server, held to the schema: well-formed, empty.
        #expect(read(LabellingBackend.item(1, "I", "I", "I use Neovim for all my editing")) == nil, "the whole sentence is no value")
        #expect(read(LabellingBackend.item(1, "Neovim", "I", "I")) == nil, "a pronoun is no attribute nor value")
        #expect(read(LabellingBackend.item(2, "freeze", "1", "3")) == nil, "an attribute is words")
    }

    @Test func theSchemaAsksForEverySentenceAndNoMore() throws {
        let schema = ModelReading.schema(sentences: 3)
        guard case .object(let top) = schema, case .object(let properties)? = top["properties"], case .object(let facts)? = properties["facts"],
            case .object(let item)? = facts["items"], case .object(let fields)? = item["properties"], case .object(let sentence)? = fields["sentence"]
        else { Issue.record("not the schema's shape"); return }
        #expect(facts["maxItems"] == .number(3) && sentence["maximum"] == .number(3) && item["additionalProperties"] == .bool(false))
        #expect(Set(fields.keys) == ["sentence", "subject", "attribute", "value", "ends"])
    }

    @Test(arguments: backends)
    func anEndingAPersonSaysSupersedesTheValueItNames(storage: RuntimeConfig.Storage.Backend) async throws {
        let reader = LabellingBackend { number, text in
            text.contains("gave up") ? LabellingBackend.item(number, "I", "editor", "Neovim", ends: true) : LabellingBackend.item(number, "I", "editor", "Neovim")
        }
        let home = try await play(["I use Neovim for all my editing.", "Sadly I gave up on Neovim last month."], reader, storage: storage)
        let facts = try await semantic(home)
        let current = try #require(facts.only)
        #expect(current.content == "Sadly I gave up on Neovim last month" && current.version == 2, "the ending replaced the old value, nothing carried")
        let history = try await home.runtime.history(current.id)
        #expect(history.versions.first?.content == "I use Neovim for all my editing" && history.versions.first?.validTo != nil)
        #expect(ModelReading(current.metadata)?.ends == true && Provenance(current.metadata)?.method == .rules, "the text is the person's")
        #expect(reader.labelled == ["I use Neovim for all my editing", "Sadly I gave up on Neovim last month"])
        await home.stop()

        // The rules alone cannot read an ending: both stay current.
        let rules = try await play(["I use Neovim for all my editing.", "Sadly I gave up on Neovim last month."], ScriptedBackend { _ in "Noted." })
        #expect(try await semantic(rules).count == 2)
        await rules.stop()
    }

    @Test func aChangeInOtherWordsReplacesTheValueOfTheSameLabel() async throws {
        let reader = LabellingBackend { number, text in
            text.contains("Golf") ? LabellingBackend.item(number, "I", "car", "VW Golf") : LabellingBackend.item(number, "I", "car", "Tesla")
        }
        let home = try await play(["My daily ride is a VW Golf.", "I now commute in a Tesla."], reader)
        let facts = try await semantic(home)
        let current = try #require(facts.only, "\(facts.map { ($0.content, $0.metadata) })")
        #expect(current.content.hasPrefix("I now commute in a Tesla") && current.version == 2)
        await home.stop()
    }

    /// A weak model labels everything alike, ends everything, and invents values: nothing a
    /// person said is replaced on its word alone; the outcome is the rules'.
    @Test(arguments: backends)
    func aWeakModelsLabelsReplaceNothing(storage: RuntimeConfig.Storage.Backend) async throws {
        let said = [
            "Ana leads the data platform team.", "Ana likes green tea.", "The deploy window is on Tuesdays.",
            "Ana joined Contoso in 2021.", "The staging cluster runs on three nodes.",
        ]
        let weak = LabellingBackend { number, text in
            let word = text.split(separator: " ").last.map(String.init) ?? "x"
            return number % 2 == 0 ? LabellingBackend.item(number, "Ana", "fact", "Fabrikam", ends: true)
                : LabellingBackend.item(number, "Ana", "fact", word, ends: text.contains("joined"))
        }
        let labelled = try await play(said, weak, storage: storage)
        let rules = try await play(said, ScriptedBackend { _ in "Noted." }, storage: storage)
        let kept = try await semantic(labelled).map(\.content).sorted()
        #expect(kept == (try await semantic(rules).map(\.content).sorted()))
        #expect(kept.count == said.count, "every fact the person stated is current: \(kept)")
        await labelled.stop()
        await rules.stop()
    }

    @Test func aBackendThatAnswersNothingUsableLeavesTheRulesReading() async throws {
        for answer in ["no JSON at all", #"{"facts": "none"}"#, #"{"facts": [{"sentence": 9}]}"#] {
            let home = try await play(["Our freeze starts on 3 March.", "Our freeze now starts on 17 April."], ModelReadingTests.Answering(answer))
            let current = try #require(try await semantic(home).only, "\(answer)")
            #expect(current.content == "Our freeze now starts on 17 April" && ModelReading(current.metadata) == nil)
            await home.stop()
        }
    }

    /// Formation in the background, slowed by a model that takes its time to label: the next
    /// turn of the conversation still recalls (and checks its reply against) what the turn
    /// before formed.
    @Test func aTurnRecallsWhatTheTurnBeforeFormedHoweverSlowly() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(Answering("{\"facts\": []}", labelling: .milliseconds(300)), for: ["athena"])
        _ = try await conversation.turn("Our freeze starts on 3 March.", to: "athena")
        _ = try await conversation.turn("Our freeze now starts on 17 April.", to: "athena")
        let asked = try await conversation.turn("When does our freeze start?", to: "athena")
        let facts = asked.recalled.map(\.record).filter { $0.slice == .semantic }.map(\.content)
        #expect(facts.contains("Our freeze now starts on 17 April") && !facts.contains("Our freeze starts on 3 March"), "\(facts)")
        #expect(asked.outdated.allSatisfy { $0.now.contains("17 April") }, "\(asked.outdated)")
        await home.stop()
    }

    /// The REPL's `:remember` right after a turn whose facts a slow model is still reading:
    /// the turn's late formation never brings the old value back over the remembered one.
    @Test func aRememberAfterATurnIsNotUndoneByTheTurnsLateFormation() async throws {
        let home = try await Home()
        let conversation = Conversation(runtime: home.runtime)
        try await conversation.use(Answering("{\"facts\": []}", labelling: .milliseconds(300)), for: ["athena"])
        let repl = try ReplSession(runtime: home.runtime, persona: "athena", conversation: conversation)
        let output = Lines()
        #expect(await repl.handle("The launch is on 14 March.", output: output) == .ok)
        #expect(await repl.handle(":remember the launch moved to 21 March", output: output) == .ok)
        await conversation.settleFormation()
        let facts = try await home.runtime.store.query(MemoryQuery(owners: ["athena"], slices: [.semantic])).map(\.content)
        #expect(facts == ["the launch moved to 21 March"], "\(facts) \(output.text)")
        await home.stop()
    }

    final class Lines: ReplOutput, Sendable {
        private let kept = LockedBox("")
        var text: String { kept.value }
        func line(_ text: String) { kept.withLock { $0 += text + "\n" } }
        func piece(_ text: String) { kept.withLock { $0 += text } }
        func problem(_ text: String) { kept.withLock { $0 += "problem: " + text + "\n" } }
    }

    /// An "openai" backend answering `text` to every request.
    /// (Its labelling takes `labelling`: a slow model, for a test that must not depend on it.)
    struct Answering: ChatBackend {
        let text: String
        let labelling: Duration
        init(_ text: String, labelling: Duration = .zero) { (self.text, self.labelling) = (text, labelling) }
        var description: BackendDescription { BackendDescription(kind: "openai", model: "fixed", location: "-", contextLength: 4096) }
        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            let labels = request.messages.first?.content.hasPrefix("You label facts") == true
            let (text, delay) = labels ? (self.text, labelling) : ("Noted.", .zero)
            return AsyncThrowingStream { continuation in
                Task {
                    if delay > .zero { try? await Task.sleep(for: delay) }
                    continuation.yield(.delta(text))
                    continuation.yield(.finished(.stop, ChatUsage()))
                    continuation.finish()
                }
            }
        }
        func countTokens(_ messages: [ChatMessage]) async throws -> Int { OpenAIBackend.estimateTokens(messages) }
    }
}

extension Array {
    /// The one element, or `nil` when there are none or several.
    fileprivate var only: Element? { count == 1 ? first : nil }
}
