import Foundation
import TroupeCore

/// SmolLM2-135M-Instruct (or another llama-architecture GGUF with a ChatML template) run in
/// this process: the GGUF is read once (memory-mapped; the weights copied, still quantised, onto
/// huge pages), the tokenizer and decoder are Troupe's own (Swift over C SIMD kernels), and no
/// Python or server is involved. Loading takes a fraction of a second and about 100 MB; keep one
/// instance per process.
///
/// Requests are served one at a time, in the order they arrive, on the backend's own thread:
/// one model instance, one KV cache. A request that arrives while another runs waits; cancelling
/// its consumer ends it (waiting or running) between two tokens. The KV cache keeps the last
/// conversation, so a next turn that repeats it only computes what is new. `ChatRequest.model` is
/// ignored: the backend serves the one model it loaded.
public final class EmbeddedBackend: ChatBackend {
    /// How the model runs.
    public struct Options: Sendable, Hashable {
        /// Threads for the matrix products (the generation thread included). By default two, or
        /// one on a single-core machine: measured on 2 cores, the second thread speeds prompts up
        /// ~1.7× and decoding ~1.2× when the machine is idle, and still gains a little with the
        /// other core busy, because the pool's threads claim work item by item and a thread the OS
        /// has not scheduled leaves its share to the other.
        public var threads: Int
        /// The arithmetic of decode steps (prompts always run in Float32).
        public var decodeArithmetic: DecodeArithmetic
        /// Keep the cached start of the previous conversation when a prompt begins with it.
        public var reusePrompt: Bool
        /// Cap on the context (prompt and reply), at most the model's; nil for the model's.
        public var contextLength: Int?

        public init(threads: Int = Options.defaultThreads, decodeArithmetic: DecodeArithmetic = .int16, reusePrompt: Bool = true,
                    contextLength: Int? = nil) {
            self.threads = threads
            self.decodeArithmetic = decodeArithmetic
            self.reusePrompt = reusePrompt
            self.contextLength = contextLength
        }

        /// Two threads, or one on a single-core machine.
        public static var defaultThreads: Int { min(2, ProcessInfo.processInfo.activeProcessorCount) }
    }

    /// How a decode step multiplies one token's activations by the quantised weights.
    public enum DecodeArithmetic: String, Sendable, Hashable, CaseIterable {
        /// Float32 activations against weights dequantised on the fly: the reference's arithmetic.
        case float32
        /// Activations quantised to int16 per block of 32, integer products: within about 1e-5
        /// of Float32 and nearly as fast as int8 (the default).
        case int16
        /// Activations quantised to int8 per block of 32, as llama.cpp does: the fastest, but
        /// logits move by a few tenths, enough to change a greedy reply where the top two are close.
        case int8

        var kernels: LLMKernels.Arithmetic {
            switch self {
            case .float32: .vectorFloat32
            case .int16: .vectorInt16
            case .int8: .vectorInt8
            }
        }
    }

    /// The file Scripts/setup installs.
    public static let modelFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Where Scripts/setup puts the model: `$TROUPE_LLM_MODEL_DIR`, else
    /// `$TROUPE_HOME/models/smollm2-135m-instruct`, else `~/.troupe/models/smollm2-135m-instruct`;
    /// the first that holds the file, or nil.
    public static func installedModel(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let home = environment["TROUPE_HOME"] ?? (NSHomeDirectory() + "/.troupe")
        let directories = [environment["TROUPE_LLM_MODEL_DIR"], home + "/models/smollm2-135m-instruct",
                           NSHomeDirectory() + "/.troupe/models/smollm2-135m-instruct"].compactMap { $0 }
        return directories.map { URL(fileURLWithPath: $0).appendingPathComponent(modelFileName) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    public let description: BackendDescription
    let tokenizer: BPETokenizer
    let template: ChatTemplate
    let options: Options
    let generation: Generation
    let queue: GenerationQueue

    /// Loads `modelFile` (a GGUF); errors name the file and what is wrong with it.
    public init(modelFile: URL, options: Options = Options()) throws {
        let gguf = try GGUFFile(path: modelFile.path)
        let configuration = try LlamaConfiguration(gguf: gguf)
        let weights = try LlamaWeights(file: gguf, configuration: configuration)
        tokenizer = try BPETokenizer(gguf: gguf)
        template = try ChatTemplate(tokenizer: tokenizer, gguf: gguf)
        self.options = options
        let model = try LlamaModel(
            weights: weights, configuration: configuration, threads: options.threads, decode: options.decodeArithmetic.kernels,
            contextLength: options.contextLength)
        description = BackendDescription(
            kind: "embedded", model: gguf.metadata["general.name"]?.string ?? modelFile.deletingPathExtension().lastPathComponent,
            location: modelFile.path, contextLength: model.capacity)
        generation = Generation(tokenizer: tokenizer, template: template, reusePrompt: options.reusePrompt)
        queue = GenerationQueue(model: model)
    }

    /// Loads the model Scripts/setup installed, or says how to install it.
    public convenience init(options: Options = Options()) throws {
        guard let file = Self.installedModel() else {
            throw TroupeError(.unavailable, "the embedded chat model is not installed (run Scripts/setup, or set TROUPE_LLM_MODEL_DIR)")
        }
        try self.init(modelFile: file, options: options)
    }

    deinit { queue.shutdown() }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        Self.submit(request, generation: generation, to: queue).stream
    }

    public func stream(_ request: ChatRequest, cancellation: ReplyCancellation) -> AsyncThrowingStream<ChatEvent, any Error> {
        Self.submit(request, generation: generation, to: queue, cancellation: cancellation).stream
    }

    /// Streams the reply to `request`, with a way to ask when the model's thread let go of it
    /// (for benchmarks that time a cancellation: from the consumer's cancel to the job's end).
    package func measuredStream(_ request: ChatRequest, cancellation: ReplyCancellation)
        -> (stream: AsyncThrowingStream<ChatEvent, any Error>, ended: @Sendable () -> ContinuousClock.Instant?)
    {
        let (stream, job) = Self.submit(request, generation: generation, to: queue, cancellation: cancellation)
        return (stream, { job.endedAt })
    }

    /// Queues `request`; the stream's end (its consumer cancelled or gone) cancels the job, and
    /// so does `cancellation`, at once.
    static func submit(_ request: ChatRequest, generation: Generation, to queue: GenerationQueue, cancellation: ReplyCancellation? = nil)
        -> (stream: AsyncThrowingStream<ChatEvent, any Error>, job: GenerationJob)
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatEvent.self, throwing: (any Error).self)
        let job = GenerationJob(request: request, generation: generation, continuation: continuation)
        continuation.onTermination = { _ in job.cancel() }
        cancellation?.onCancel { job.cancel() }
        queue.submit(job)
        return (stream, job)
    }

    public func countTokens(_ messages: [ChatMessage]) async throws -> Int {
        template.render(messages, tokenizer: tokenizer).count
    }
}
