import Foundation
import TroupeCore
import TroupeLLM
import TroupeRedis
import TroupeRuntime
import TroupeStore

/// `troupe bench load`: latency in one long-lived runtime (running as a service, with the managed
/// Redis hot tier and the embedded chat model) on a quiet machine, then with both cores busy: the
/// embedded model generating without a pause and CPU hogs in processes of their own. It times
/// recall (the query embedded, scored and ranked), a hot-tier read (working memory from Redis) and
/// cancelling a generation (from the consumer's cancel to the model's thread letting go of it).
/// Prints figures; asserts nothing.
public struct LoadBenchmark: Sendable {
    public var memories = 10_000
    /// Recalls and hot-tier reads timed in each phase.
    public var samples = 200
    /// Generations cancelled in each phase.
    public var cancels = 40
    /// CPU hogs (busy processes) beside the model in the loaded phase.
    public var hogs = 1

    public init() {}

    public struct Phase: Sendable {
        public var recall: StoreBenchmark.Percentiles
        public var hotRead: StoreBenchmark.Percentiles
        /// Cancels heard through the stream's iterator alone, and through a handler over the loop.
        public var cancelIterator: StoreBenchmark.Percentiles
        public var cancel: StoreBenchmark.Percentiles
    }

    public struct Result: Sendable {
        public var memories: Int
        public var hogs: Int
        public var embedder: String
        public var model: String
        public var quiet: Phase
        public var loaded: Phase
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-load-\(UUID().uuidString)")
        defer {
            ManagedRedis(home: root).stop()
            try? FileManager.default.removeItem(at: root)
        }
        let configuration = try CoordinatorBenchmark.home(in: root, personas: 1, policy: .keepBoth, redis: "managed")
        let runtime = try Runtime(configuration: configuration)
        guard let definition = runtime.personas.first else { throw TroupeError(.notFound, "the benchmark home has no persona") }
        guard let embedder = try await runtime.embedder()?.embedder else { throw TroupeError(.unavailable, "no embedder: run Scripts/setup") }
        let (backend, selection) = try await runtime.chatBackend(for: definition)
        guard let model = backend as? EmbeddedBackend else {
            throw TroupeError(.unavailable, "the embedded chat model is not what runs here (\(selection.choice)): run Scripts/setup")
        }
        log("storing \(memories) memories (random vectors under \(embedder.modelID); queries are embedded for real)")
        try await CoordinatorBenchmark.fill(runtime.store, owners: [definition.name], perOwner: memories, slices: [.episodic, .semantic], embedder: embedder)
        let service = Task { try await runtime.run() }
        let persona = try await runtime.persona(definition.name.rawValue)
        for i in 0..<20 { _ = try await persona.note("Working note \(i): the review is at noon and needs the figures.") }
        guard let tier = await runtime.hotTier(), await tier.ready() else {
            throw TroupeError(.unavailable, "the managed redis-server did not start (see `troupe doctor`)")
        }

        let probes = Probes(persona: persona, model: model)
        log("warming up")
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20 {
            _ = try await persona.recall(StoreBenchmark.sentence(&rng, words: 10))
            _ = try await persona.workingMemory()
        }
        _ = try await probes.cancelAfter(tokens: 5, wired: true)

        log("quiet: \(samples) recalls, \(samples) hot-tier reads, \(cancels) cancelled generations, one kind at a time")
        let quietRecall = try await probes.recalls(samples, seed: 1)
        let quietRead = try await probes.reads(samples)
        var quietCancel: [Double] = [], quietIterator: [Double] = []
        for i in 0..<cancels {
            quietIterator.append(try await probes.cancelAfter(tokens: 5 + (i * 7) % 60, wired: false))
            quietCancel.append(try await probes.cancelAfter(tokens: 5 + (i * 7) % 60, wired: true))
        }
        let quiet = Phase(recall: .init(quietRecall), hotRead: .init(quietRead), cancelIterator: .init(quietIterator), cancel: .init(quietCancel))

        log("loaded: the model generating without a pause and \(hogs) CPU hog(s); recalls and reads meanwhile")
        let hogProcesses = try (0..<hogs).map { _ in try Self.startHog() }
        // SIGKILL: a child inherits this process's ignored SIGTERM (the service lifecycle's).
        defer { for hog in hogProcesses { kill(hog.processIdentifier, SIGKILL) } }
        let generating = Generating()
        // The model never rests: each generation is cancelled after some tokens and the next
        // starts, so every cancel is timed on a machine whose cores are all busy.
        let generator = Task { () -> (iterator: [Double], wired: [Double]) in
            var iterator: [Double] = [], wired: [Double] = []
            var i = 0
            while !(await generating.done) || wired.count < cancels {
                iterator.append(try await probes.cancelAfter(tokens: 20 + (i * 13) % 120, wired: false))
                wired.append(try await probes.cancelAfter(tokens: 20 + (i * 13) % 120, wired: true))
                i += 1
            }
            return (iterator, wired)
        }
        let loadedRecall = try await probes.recalls(samples, seed: 2)
        let loadedRead = try await probes.reads(samples)
        await generating.finish()
        let loadedCancel = try await generator.value
        let loaded = Phase(
            recall: .init(loadedRecall), hotRead: .init(loadedRead), cancelIterator: .init(loadedCancel.iterator), cancel: .init(loadedCancel.wired))

        service.cancel()
        _ = await service.result
        await runtime.shutdown()
        return Result(memories: memories, hogs: hogs, embedder: embedder.modelID, model: model.description.model, quiet: quiet, loaded: loaded)
    }

    /// A busy loop in a process of its own, ended by the benchmark.
    static func startHog() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
        return process
    }
}

/// Whether the loaded phase's samplers are done (the generator keeps the model busy until then).
private actor Generating {
    private(set) var done = false
    func finish() { done = true }
}

/// What the benchmark times, one call each.
private struct Probes: Sendable {
    let persona: PersonaActor
    let model: EmbeddedBackend

    /// Recall latencies (seconds), a few milliseconds apart so that they spread over the phase.
    func recalls(_ count: Int, seed: UInt64) async throws -> [Double] {
        var rng = SplitMix64(seed: seed)
        var timings: [Double] = []
        for _ in 0..<count {
            let query = StoreBenchmark.sentence(&rng, words: 10)
            timings.append(try await RedisBenchmark.time { _ = try await persona.recall(query) })
            try await Task.sleep(for: .milliseconds(5))
        }
        return timings
    }

    /// Working-memory reads from the hot tier (seconds).
    func reads(_ count: Int) async throws -> [Double] {
        var timings: [Double] = []
        for _ in 0..<count {
            timings.append(try await RedisBenchmark.time { _ = try await persona.workingMemory() })
            try await Task.sleep(for: .milliseconds(5))
        }
        return timings
    }

    /// Starts a long reply, cancels its consumer after `tokens` pieces of text, and returns the
    /// time from the cancel to the model's thread letting go of the job (seconds). A reply that
    /// ends by itself first is started again. `wired`: the consumer holds a cancellation handler
    /// over its whole loop, as the runtime's turns do (`ChatBackend.forEachEvent`); otherwise
    /// the stream's iterator alone hears of the cancel, when the consumer next asks for an event.
    func cancelAfter(tokens: Int, wired: Bool) async throws -> Double {
        var attempt = 0
        while true {
            attempt += 1
            // Another seed on each attempt: a reply that ended by itself would end the same way.
            let request = ChatRequest(
                messages: [ChatMessage(.user, "Tell me a very long story about a lighthouse keeper and the sea.")],
                sampling: SamplingOptions(temperature: 0.8, maxTokens: 2000, seed: UInt64(tokens * 1000 + attempt)))
            let cancellation = ReplyCancellation()
            let (stream, ended) = model.measuredStream(request, cancellation: cancellation)
            let (reached, signal) = AsyncStream.makeStream(of: Void.self)
            let consumer = Task {
                var count = 0
                let consume = {
                    for try await event in stream {
                        guard case .delta = event else { continue }
                        count += 1
                        if count == tokens { signal.yield() }
                    }
                }
                if wired {
                    try await withTaskCancellationHandler(operation: consume, onCancel: { cancellation.cancel() })
                } else {
                    try await consume()
                }
                signal.finish()
            }
            var cut = false
            for await _ in reached {
                cut = true
                break
            }
            let cancelled = ContinuousClock.now
            consumer.cancel()
            _ = await consumer.result
            guard cut else { continue }
            // The job ends between two tokens; its end is recorded on the model's thread.
            while ended() == nil { try await Task.sleep(for: .milliseconds(1)) }
            guard let end = ended() else { continue }
            let d = cancelled.duration(to: end).components
            return max(0, Double(d.seconds) + Double(d.attoseconds) / 1e18)
        }
    }
}

extension LoadBenchmark.Result {
    public var text: String {
        func ms(_ s: Double) -> String { String(format: "%9.2f", s * 1000) }
        func row(_ name: String, _ q: StoreBenchmark.Percentiles, _ l: StoreBenchmark.Percentiles) -> String {
            let ratio = q.p99 > 0 ? String(format: "%6.1f×", l.p99 / q.p99) : "     -"
            return "  \(name.padding(toLength: 30, withPad: " ", startingAt: 0))\(ms(q.p50))\(ms(q.p99))\(ms(l.p50))\(ms(l.p99))  \(ratio)"
        }
        return [
            "latency in one long-lived runtime, \(memories) memories (\(embedder)), chat model \(model)",
            "loaded: the model generating without a pause (its two threads) and \(hogs) CPU hog process(es)",
            "  (ms)                          quiet p50 quiet p99 load p50  load p99  p99 load/quiet",
            row("recall (end to end)", quiet.recall, loaded.recall),
            row("hot-tier read (working)", quiet.hotRead, loaded.hotRead),
            row("cancel, stream iterator only", quiet.cancelIterator, loaded.cancelIterator),
            row("cancel, handler over the loop", quiet.cancel, loaded.cancel),
            "  aims: cancel p99 < 100 ms under load; recall p99 under load at most 3× quiet",
        ].joined(separator: "\n")
    }
}
