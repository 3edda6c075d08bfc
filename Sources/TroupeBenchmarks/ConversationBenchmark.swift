import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRedis
import TroupeRetrieval
import TroupeRuntime
import TroupeStore

/// `troupe bench turn`: what a conversation turn costs besides the model (recall over a persona
/// with many memories, fitting the prompt, storing the exchange, writing the formation job
/// down), with a backend that answers at once; and, with the embedded model, the time to the
/// first token of a reply to a full prompt. Formation runs in the background as it does in a
/// conversation (reading facts with the conversation's backend). Prints figures; asserts nothing.
public struct ConversationBenchmark: Sendable {
    public var memories = 100_000
    public var turns = 200
    public var redis = "managed"
    public var embeddedTurns = 5

    public init() {}

    public struct Phase: Sendable {
        public var overhead: StoreBenchmark.Percentiles
        public var recall: StoreBenchmark.Percentiles
        public var storing: StoreBenchmark.Percentiles
        public var assembly: StoreBenchmark.Percentiles

        /// Percentiles of timings in milliseconds (kept in seconds).
        static func ms(_ values: [Double]) -> StoreBenchmark.Percentiles { StoreBenchmark.Percentiles(values.map { $0 / 1000 }) }

        init(_ records: [TurnRecord]) {
            let ms = Self.ms
            overhead = ms(records.map(\.timings.overhead))
            recall = ms(records.map(\.timings.recall))
            storing = ms(records.map(\.timings.storing))
            assembly = ms(records.map(\.timings.assembly))
        }
    }

    public struct Result: Sendable {
        public var memories: Int
        /// Turns back to back: each shares the cores with the formation of the one before.
        public var backToBack: Phase
        /// Formation done before each turn, as the time a user takes to type allows.
        public var quiet: Phase
        /// With the embedded model: time to first token and the prompt's size.
        public var firstToken: StoreBenchmark.Percentiles?
        public var promptTokens: Int?
        public var model: String
    }

    /// A backend that answers at once, so that a turn's time is Troupe's own.
    struct Instant: ChatBackend {
        var description: BackendDescription { BackendDescription(kind: "instant", model: "none", location: "-", contextLength: 8192) }
        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
            AsyncThrowingStream { continuation in
                continuation.yield(.delta("Understood; I will keep that in mind."))
                continuation.yield(.finished(.stop, ChatUsage(promptTokens: 0, completionTokens: 8)))
                continuation.finish()
            }
        }
        func countTokens(_ messages: [ChatMessage]) async throws -> Int { OpenAIBackend.estimateTokens(messages) }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-turn-\(UUID().uuidString)")
        defer {
            ManagedRedis(home: root).stop()
            try? FileManager.default.removeItem(at: root)
        }
        let configuration = try CoordinatorBenchmark.home(in: root, personas: 1, policy: .keepBoth, redis: redis)
        let runtime = try Runtime(configuration: configuration)
        guard let name = runtime.personas.first?.name else { throw TroupeError(.notFound, "the benchmark home has no persona") }
        guard let embedder = try await runtime.embedder()?.embedder else { throw TroupeError(.unavailable, "no embedder: run Scripts/setup") }
        log("storing \(memories) memories for \(name) (random vectors under \(embedder.modelID); queries are embedded for real)")
        try await CoordinatorBenchmark.fill(runtime.store, owners: [name], perOwner: memories, slices: [.episodic, .semantic], embedder: embedder)
        let persona = try await runtime.persona(name.rawValue)
        for i in 0..<8 { _ = try await persona.remember("Rule \(i): check the numbers twice before answering.", in: .procedural) }

        let conversation = Conversation(runtime: runtime)
        await conversation.setBackend(Instant(), for: name)
        var rng = SplitMix64(seed: 3)
        log("warming up, then \(turns) turns back to back and \(turns) with formation done before each, with a backend that answers at once")
        for _ in 0..<5 { _ = try await conversation.turn(StoreBenchmark.sentence(&rng, words: 12), to: name.rawValue) }
        var backToBack: [TurnRecord] = [], quiet: [TurnRecord] = []
        for _ in 0..<turns { backToBack.append(try await conversation.turn(StoreBenchmark.sentence(&rng, words: 12), to: name.rawValue)) }
        for _ in 0..<turns {
            await runtime.formation.drain(timeout: .seconds(600))
            quiet.append(try await conversation.turn(StoreBenchmark.sentence(&rng, words: 12), to: name.rawValue))
        }
        var result = Result(memories: memories, backToBack: Phase(backToBack), quiet: Phase(quiet), model: embedder.modelID)

        if embeddedTurns > 0, case .embedded = await runtime.selectBackend(for: runtime.personas.first).choice {
            let real = Conversation(runtime: runtime)
            for i in 0..<3 { _ = try await persona.note("Working note \(i): the review is at noon and needs the figures.") }
            log("\(embeddedTurns) turns with the embedded model (full prompt: system prompt, 8 rules, 10 memories, working memory)")
            var first: [Double] = []
            var tokens = 0
            for _ in 0..<embeddedTurns {
                // The previous turn's formation (the model reading facts) done first: the
                // figure is the prompt's, not a backlog's.
                await runtime.formation.drain(timeout: .seconds(600))
                let record = try await real.turn(StoreBenchmark.sentence(&rng, words: 14), to: name.rawValue,
                                                 sampling: SamplingOptions(temperature: 0, maxTokens: 16, seed: 1))
                if let f = record.timings.firstToken {
                    first.append(f)
                    log(String(format: "  turn %d: %d prompt tokens, first token after %.0f ms", first.count, record.promptTokens, f))
                }
                tokens = record.promptTokens
            }
            result.firstToken = Phase.ms(first)
            result.promptTokens = tokens
        }
        await runtime.shutdown()
        return result
    }
}

extension ConversationBenchmark.Result {
    public var text: String {
        func f(_ p: StoreBenchmark.Percentiles) -> String { String(format: "p50 %.2f ms  p99 %.2f ms", p.p50 * 1000, p.p99 * 1000) }
        func phase(_ p: ConversationBenchmark.Phase, _ title: String) -> [String] {
            [
                "  \(title): overhead (recall + prompt + storing) \(f(p.overhead))   (aim p99 < 30 ms)",
                "    recall \(f(p.recall)); prompt \(f(p.assembly)); storing and formation job \(f(p.storing))",
            ]
        }
        var lines = ["conversation turn at \(memories) memories (\(model)), model excluded:"]
        lines += phase(quiet, "formation done between turns")
        lines += phase(backToBack, "turns back to back (formation of the last one running)")
        if let firstToken {
            lines.append("  embedded model, full prompt of \(promptTokens ?? 0) tokens: time to first token \(f(firstToken))")
        } else {
            lines.append("  embedded model: not chosen here (see `troupe doctor`), time to first token not measured")
        }
        return lines.joined(separator: "\n")
    }
}
