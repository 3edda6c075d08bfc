import ArgumentParser
import Foundation
import TroupeBenchmarks
import TroupeLLM

extension BenchCommand {
    struct LLMBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "llm", abstract: "The embedded chat model: prompt and decode tokens/s, time to first token, peak memory.",
            discussion: """
                Greedy replies of a fixed length to prompts from a JSONL file of {"system", "user"} lines (by default the \
                reference prompts 6 and 7, 228 and 427 tokens). Scripts/bench llm runs llama.cpp on the same GGUF beside it \
                and prints the ratios.
                """)
        @Option(help: ArgumentHelp("The GGUF (default: the one Scripts/setup installed).", valueName: "file")) var model: String?
        @Option(help: ArgumentHelp("JSONL file of prompts.", valueName: "file")) var prompts = "../shared/reference/smollm2/logits.jsonl"
        @Option(help: "Lines of the prompt file to use (comma-separated, from 0).") var lines = "6,7"
        @Option(help: "Thread counts (comma-separated).") var threads = "1,2"
        @Option(help: "Reply tokens per run.") var replyTokens = 128
        @Option(help: "Runs per prompt and thread count (the median is reported).") var runs = 3
        @Option(help: ArgumentHelp("Decode arithmetic: int16, int8 or float32.", valueName: "arithmetic"))
        var decode = EmbeddedBackend.Options().decodeArithmetic.rawValue
        @Flag(help: "Print one JSON object per line.") var json = false

        func validate() throws {
            guard parsed(threads).allSatisfy({ (1...64).contains($0) }), !parsed(threads).isEmpty else {
                throw ValidationError("--threads: comma-separated counts from 1 to 64")
            }
            guard replyTokens >= 2, runs >= 1 else { throw ValidationError("--reply-tokens must be at least 2 and --runs at least 1") }
            guard EmbeddedBackend.DecodeArithmetic(rawValue: decode) != nil else { throw ValidationError("--decode: int16, int8 or float32") }
        }

        private func parsed(_ list: String) -> [Int] { list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func run() async throws {
            guard let file = model.map(URL.init(fileURLWithPath:)) ?? EmbeddedBackend.installedModel() else {
                throw ValidationError("the chat model is not installed (run Scripts/setup, or pass --model)")
            }
            let benchmark = LLMBenchmark(
                modelFile: file, prompts: try LLMBenchmark.prompts(file: URL(fileURLWithPath: prompts), lines: parsed(lines)),
                threads: parsed(threads), replyTokens: replyTokens, runs: runs, decode: EmbeddedBackend.DecodeArithmetic(rawValue: decode)!)
            let rows = try await benchmark.run { Output.stderr($0) }
            if json {
                for row in rows { Output.json(LLMBenchmark.json(row)) }
            } else {
                Output.stdout(LLMBenchmark.table(rows))
            }
        }
    }
}
