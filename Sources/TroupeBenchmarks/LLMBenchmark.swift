import Foundation
import TroupeCore
import TroupeLLM

/// The embedded chat model's speed: for each prompt and thread count, prompt processing and
/// decode rates, time to the first token and the process's peak memory. Prints figures, asserts
/// nothing; `Scripts/bench llm` runs it beside llama.cpp on the same GGUF and prints the ratios.
public struct LLMBenchmark: Sendable {
    public struct Prompt: Sendable {
        public var name: String
        public var messages: [ChatMessage]

        public init(name: String, messages: [ChatMessage]) {
            self.name = name
            self.messages = messages
        }
    }

    /// Medians over the runs of one prompt at one thread count.
    public struct Row: Sendable {
        public var prompt: String
        public var threads: Int
        public var decode: EmbeddedBackend.DecodeArithmetic
        public var promptIDs: [Int32]
        public var replyTokens: Int
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        public var timeToFirstTokenMilliseconds: Double
        /// The process's peak resident set (VmHWM) after these runs.
        public var peakRSS: Int64
        public var runs: Int
    }

    public var modelFile: URL
    public var prompts: [Prompt]
    public var threads: [Int]
    public var replyTokens: Int
    public var runs: Int
    public var decode: EmbeddedBackend.DecodeArithmetic

    public init(modelFile: URL, prompts: [Prompt], threads: [Int] = [1, 2], replyTokens: Int = 128, runs: Int = 3,
                decode: EmbeddedBackend.DecodeArithmetic = EmbeddedBackend.Options().decodeArithmetic) {
        self.modelFile = modelFile
        self.prompts = prompts
        self.threads = threads
        self.replyTokens = replyTokens
        self.runs = runs
        self.decode = decode
    }

    /// Runs every prompt at every thread count (a fresh backend per thread count, warmed up by
    /// one short run first).
    public func run(progress: (String) -> Void) async throws -> [Row] {
        var rows: [Row] = []
        for count in threads {
            let backend = try EmbeddedBackend(modelFile: modelFile, options: .init(threads: count, decodeArithmetic: decode))
            _ = try await backend.measure([ChatMessage(.user, "Hello!")], replyTokens: 8)
            for prompt in prompts {
                var measured: [EmbeddedBackend.Run] = []
                for i in 0..<runs {
                    let run = try await backend.measure(prompt.messages, replyTokens: replyTokens)
                    progress(String(format: "%@, %d thread%@, run %d: %d prompt tokens at %.0f tok/s, %d reply tokens at %.1f tok/s, first token after %.0f ms",
                                    prompt.name, count, count == 1 ? "" : "s", i + 1, run.promptTokens, run.prefillTokensPerSecond,
                                    run.replyTokens, run.decodeTokensPerSecond, run.timeToFirstTokenMilliseconds))
                    measured.append(run)
                }
                rows.append(Row(
                    prompt: prompt.name, threads: count, decode: decode, promptIDs: measured[0].promptIDs, replyTokens: replyTokens,
                    prefillTokensPerSecond: Self.median(measured.map(\.prefillTokensPerSecond)),
                    decodeTokensPerSecond: Self.median(measured.map(\.decodeTokensPerSecond)),
                    timeToFirstTokenMilliseconds: Self.median(measured.map(\.timeToFirstTokenMilliseconds)),
                    peakRSS: Self.peakRSS(), runs: runs))
            }
        }
        return rows
    }

    /// Prompts from a JSONL file of `{"system", "user"}` lines (the reference's logits.jsonl),
    /// by line number from 0; each is named after its line and token count later.
    public static func prompts(file: URL, lines: [Int]) throws -> [Prompt] {
        let text = try String(contentsOf: file, encoding: .utf8)
        let all = text.split(separator: "\n")
        return try lines.map { index in
            guard index >= 0, index < all.count else {
                throw TroupeError(.invalidInput, "no prompt on line \(index) (the file has \(all.count))", context: file.path)
            }
            guard case .object(let fields) = try JSONValue.parse(Array(all[index].utf8)), case .string(let user)? = fields["user"] else {
                throw TroupeError(.invalidInput, "line \(index) has no \"user\" string", context: file.path)
            }
            var messages: [ChatMessage] = []
            if case .string(let system)? = fields["system"] { messages.append(ChatMessage(.system, system)) }
            messages.append(ChatMessage(.user, user))
            return Prompt(name: "prompt \(index)", messages: messages)
        }
    }

    public static func json(_ row: Row) -> JSONValue {
        .object([
            "kind": .string("llm"), "prompt": .string(row.prompt), "threads": .number(Double(row.threads)),
            "decode": .string(row.decode.rawValue), "prompt_tokens": .number(Double(row.promptIDs.count)),
            "prompt_ids": .array(row.promptIDs.map { .number(Double($0)) }), "reply_tokens": .number(Double(row.replyTokens)),
            "prefill_tok_s": .number((row.prefillTokensPerSecond * 10).rounded() / 10),
            "decode_tok_s": .number((row.decodeTokensPerSecond * 10).rounded() / 10),
            "ttft_ms": .number((row.timeToFirstTokenMilliseconds * 10).rounded() / 10),
            "peak_rss_bytes": .number(Double(row.peakRSS)), "runs": .number(Double(row.runs)),
        ])
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["prompt        tokens  threads | prefill tok/s  decode tok/s  first token ms | peak RSS MiB"]
        for r in rows {
            lines.append(String(format: "%-12@ %7d  %7d | %13.0f  %12.1f  %14.0f | %12.0f", r.prompt as NSString, r.promptIDs.count, r.threads,
                                r.prefillTokensPerSecond, r.decodeTokensPerSecond, r.timeToFirstTokenMilliseconds, Double(r.peakRSS) / 1_048_576))
        }
        lines.append("\(rows.first?.replyTokens ?? 0)-token greedy replies; medians of \(rows.first?.runs ?? 0) runs; decode arithmetic "
                     + (rows.first?.decode.rawValue ?? "?"))
        return lines.joined(separator: "\n")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// VmHWM from /proc/self/status, in bytes (0 where there is no /proc).
    static func peakRSS() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Int64(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
