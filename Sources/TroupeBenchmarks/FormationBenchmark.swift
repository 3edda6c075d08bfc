import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeStore
import Yams

/// `troupe bench formation`: whether what personas remember is true. Scripted conversations
/// (see Tests/FormationBench/README.md) are played to the personas, each in a fresh home, with a
/// chat backend answering; then their semantic memory is read against what the person said:
///
/// - stated recall: the share of values a person stated (`holds`) that are current;
/// - update accuracy: the share of updates whose new value is current and old one is not;
/// - precision: the share of current semantic memories whose every content word is in one thing
///   a person said (a model's invention, or a person's words mixed with it, is not);
/// - corruption: values a person stated that were current once and are not at the end, without
///   the person changing them (superseded or swallowed by something else).
///
/// Formation runs inline (each turn's facts are formed before the next turn), as in a session.
/// Prints figures; asserts nothing.
public struct FormationBenchmark: Sendable {
    public var corpus: URL
    /// The runtime configuration whose personas and shared slices the conversations talk to.
    public var config: URL
    /// Chat backends to run the corpus with (`offline`, `embedded`, `openai` with `baseURL`).
    public var backends: [String] = ["offline", "embedded"]
    public var baseURL: String?
    /// The longest reply, in tokens (a weak model rambles; formation reads what it says).
    public var maxTokens = 64
    /// Only the conversations whose file name contains this.
    public var only: String?
    /// Keep each conversation's home (to look at what the personas remember), logging where.
    public var keepHomes = false

    public init(corpus: URL, config: URL) {
        self.corpus = corpus
        self.config = config
    }

    /// One scripted conversation.
    public struct Script: Sendable {
        public enum Step: Sendable {
            case say(String)
            case to(String)
            case relay(String)
        }
        public var name: String
        public var persona: String
        public var steps: [Step]
        public var holds: [(persona: String, value: String)]
        public var updates: [(persona: String, old: String, new: String)]

        /// Reads a conversation file; an error names the file and what is wrong.
        public static func read(_ url: URL) throws -> Script {
            let name = url.deletingPathExtension().lastPathComponent
            func bad(_ what: String) -> TroupeError { TroupeError(.invalidInput, "\(url.path): \(what)") }
            guard let root = try Yams.compose(yaml: String(contentsOf: url, encoding: .utf8)), let top = root.mapping else {
                throw bad("expected a mapping")
            }
            guard let persona = top["persona"]?.string else { throw bad("missing 'persona'") }
            var steps: [Step] = []
            for (index, node) in (top["steps"]?.sequence ?? []).enumerated() {
                if let text = node.mapping?["say"]?.string {
                    steps.append(.say(text))
                } else if let name = node.mapping?["to"]?.string {
                    steps.append(.to(name))
                } else if let name = node.mapping?["relay"]?.string {
                    steps.append(.relay(name))
                } else {
                    throw bad("step \(index + 1) is not say, to or relay")
                }
            }
            let expect = top["expect"]?.mapping
            var holds: [(String, String)] = []
            for node in expect?["holds"]?.sequence ?? [] {
                guard let who = node.mapping?["persona"]?.string, let value = node.mapping?["value"]?.string else { throw bad("a 'holds' item needs persona and value") }
                holds.append((who, value))
            }
            var updates: [(String, String, String)] = []
            for node in expect?["updates"]?.sequence ?? [] {
                guard let who = node.mapping?["persona"]?.string, let old = node.mapping?["old"]?.string, let new = node.mapping?["new"]?.string else {
                    throw bad("an 'updates' item needs persona, old and new")
                }
                updates.append((who, old, new))
            }
            return Script(name: name, persona: persona, steps: steps, holds: holds, updates: updates)
        }
    }

    /// What one backend made of the corpus.
    public struct Score: Sendable {
        public var backend: String
        public var conversations = 0
        public var turns = 0
        public var holds = 0, held = 0
        public var updates = 0, updated = 0
        public var memories = 0, supported = 0
        public var corrupted = 0
        public var seconds = 0.0
        /// Examples of what went wrong, for reading.
        public var misses: [String] = []

        public var statedRecall: Double { holds == 0 ? 1 : Double(held) / Double(holds) }
        public var updateAccuracy: Double { updates == 0 ? 1 : Double(updated) / Double(updates) }
        public var precision: Double { memories == 0 ? 1 : Double(supported) / Double(memories) }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> [Score] {
        let files = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" && (only.map($0.lastPathComponent.contains) ?? true) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let scripts = try files.map(Script.read)
        guard !scripts.isEmpty else { throw TroupeError(.notFound, "no conversations (*.yaml) in \(corpus.path)") }
        var scores: [Score] = []
        for backend in backends {
            var score = Score(backend: backend)
            let start = Date()
            for (index, script) in scripts.enumerated() {
                log("\(backend): \(index + 1)/\(scripts.count) \(script.name)")
                try await play(script, backend: backend, into: &score, log: log)
            }
            score.seconds = Date().timeIntervalSince(start)
            scores.append(score)
        }
        return scores
    }

    /// Plays `script` in a fresh home and scores what the personas remember.
    func play(_ script: Script, backend: String, into score: inout Score, log: @Sendable (String) -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-formation-\(script.name)-\(backend)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if !keepHomes { try? FileManager.default.removeItem(at: root) } }
        if keepHomes { log("  home: \(root.path)") }
        var configuration = try Configuration.load(configFlag: config.path, homeFlag: root.path, environment: [:])
        configuration.runtime.redis.mode = .off
        configuration.runtime.llm.backend = RuntimeConfig.LLM.Backend(rawValue: backend) ?? .offline
        configuration.runtime.llm.baseURL = baseURL
        configuration.runtime.llm.maxTokens = maxTokens
        configuration.runtime.llm.temperature = 0
        let runtime = try await Runtime.opened(configuration: configuration)
        let conversation = Conversation(runtime: runtime, formsInline: true)
        var current = script.persona
        var lastReply: String?
        var said: [String] = []
        for step in script.steps {
            switch step {
            case .to(let name):
                current = name
            case .say(let text):
                said.append(text)
                lastReply = try await conversation.turn(text, to: current, from: "user").reply
            case .relay(let name):
                // The current persona's last reply, a model's words, said to the next persona.
                let text = lastReply ?? ""
                let speaker = current
                current = name
                if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    lastReply = try await conversation.turn(text, to: current, from: speaker).reply
                }
            }
            score.turns += 1
        }

        // What each persona holds now, and every value it ever held.
        var currentText: [String: [String]] = [:]
        var everText: [String: [String]] = [:]
        for persona in runtime.personas.map(\.name) {
            let facts = try await runtime.store.query(MemoryQuery(owners: [persona], slices: [.semantic]))
            currentText[persona.rawValue] = facts.map { $0.content.lowercased() }
            var ever: [String] = []
            for fact in facts { ever += try await runtime.history(fact.id).versions.map { $0.content.lowercased() } }
            everText[persona.rawValue] = ever
            score.memories += facts.count
            for fact in facts {
                if Self.supported(fact.content, by: said) {
                    score.supported += 1
                } else if score.misses.count < 40 {
                    score.misses.append("\(script.name): \(persona) holds an unsupported fact: \(fact.content)")
                }
            }
        }
        let updatedOld = Set(script.updates.map { "\($0.persona)|\($0.old.lowercased())" })
        func holds(_ persona: String, _ value: String) -> Bool { currentText[persona, default: []].contains { $0.contains(value.lowercased()) } }
        func held(_ persona: String, _ value: String) -> Bool { everText[persona, default: []].contains { $0.contains(value.lowercased()) } }
        for (persona, value) in script.holds {
            score.holds += 1
            if holds(persona, value) {
                score.held += 1
            } else {
                if held(persona, value), !updatedOld.contains("\(persona)|\(value.lowercased())") { score.corrupted += 1 }
                if score.misses.count < 40 { score.misses.append("\(script.name): \(persona) does not hold \"\(value)\"") }
            }
        }
        for (persona, old, new) in script.updates {
            score.updates += 1
            if holds(persona, new), !holds(persona, old) {
                score.updated += 1
            } else {
                if held(persona, new), !holds(persona, new) { score.corrupted += 1 }
                if score.misses.count < 40 { score.misses.append("\(script.name): \(persona) update \"\(old)\" → \"\(new)\" not current") }
            }
        }
        score.conversations += 1
        await runtime.shutdown()
    }

    /// Whether every content word of `fact` is in one of the things a person `said`. Words a
    /// superseded fact carried over in brackets ("… 310 ms [on the m6i.large fleet]") are
    /// checked on their own: they come from the earlier statement, the rest from the new one.
    static func supported(_ fact: String, by said: [String]) -> Bool {
        if fact.hasSuffix("]"), let open = fact.range(of: " [", options: .backwards) {
            let carried = String(fact[open.upperBound..<fact.index(before: fact.endIndex)])
            return supported(String(fact[..<open.lowerBound]), by: said) && supported(carried, by: said)
        }
        let function: Set<String> = [
            "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "by", "is", "are", "was", "were", "be", "has", "have",
            "that", "this", "it", "its", "our", "my", "we", "i", "now", "with", "from", "as",
        ]
        func words(_ text: String) -> [String] {
            text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "." && $0 != "'" }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".'")) }.filter { !$0.isEmpty && !function.contains($0) }
        }
        let content = words(fact)
        guard !content.isEmpty else { return false }
        return said.contains { line in
            let heard = Set(words(line))
            return content.allSatisfy(heard.contains)
        }
    }

    /// The table: one row per backend.
    public static func text(_ scores: [Score], misses: Bool) -> String {
        var lines = [
            "formation benchmark: scripted conversations, each in a fresh home; formation inline",
            "backend     convs  turns  stated recall    update accuracy  precision         corruption  time",
        ]
        for s in scores {
            func cell(_ a: Int, _ b: Int, _ r: Double) -> String { "\(String(format: "%.3f", r)) (\(a)/\(b))".padding(toLength: 17, withPad: " ", startingAt: 0) }
            lines.append(
                s.backend.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%5d  %5d  ", s.conversations, s.turns)
                    + cell(s.held, s.holds, s.statedRecall) + cell(s.updated, s.updates, s.updateAccuracy)
                    + cell(s.supported, s.memories, s.precision) + String(format: "%10d  %.0f s", s.corrupted, s.seconds))
        }
        if misses {
            for s in scores where !s.misses.isEmpty {
                lines.append("\(s.backend), what went wrong (at most 40):")
                lines += s.misses.map { "  " + $0 }
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ scores: [Score]) -> JSONValue {
        .array(scores.map { s in
            .object([
                "backend": .string(s.backend), "conversations": .number(Double(s.conversations)), "turns": .number(Double(s.turns)),
                "stated_recall": .number(s.statedRecall), "update_accuracy": .number(s.updateAccuracy), "precision": .number(s.precision),
                "corruption": .number(Double(s.corrupted)), "holds": .number(Double(s.holds)), "updates": .number(Double(s.updates)),
                "memories": .number(Double(s.memories)), "seconds": .number(s.seconds), "misses": .array(s.misses.map { .string($0) }),
            ])
        })
    }
}
