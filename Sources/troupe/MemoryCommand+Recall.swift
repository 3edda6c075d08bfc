import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeRuntime

extension MemoryCommand {
    struct Recall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall the memories that best answer a query.",
            discussion: """
                Searches the persona's slices and the shared slices it belongs to. With --queries FILE,
                answers one query per line of FILE, as one JSON line each, in one batch.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Whose memory.") var persona: String
        @Option(help: "Only this slice (repeatable).") var slice: [SliceKind] = []
        @Option(help: "How many memories (default from config, 10).") var limit: Int?
        @Flag(help: "Show how each score was made.") var why = false
        @Flag(help: "Print JSON.") var json = false
        @Option(help: ArgumentHelp("Answer each line of this file as a query (JSONL output).", valueName: "file")) var queries: String?
        @Argument(help: "The query.") var query: String?

        func validate() throws {
            if (query == nil) == (queries == nil) { throw ValidationError("give either a QUERY or --queries FILE") }
            try FlagRange.check(limit, RuntimeConfig.limitRange, "--limit", setting: "retrieval.default_limit")
        }

        func run() async throws {
            let runtime = try await global.memoryRuntime()
            let persona = try await runtime.persona(persona)
            let slices = slice.isEmpty ? nil : slice
            if let warning = runtime.embedderChoice.warning { Output.warning(warning) }
            if let queries {
                let text: String
                do { text = try String(contentsOfFile: queries, encoding: .utf8) } catch {
                    throw TroupeError(.invalidInput, "cannot read the queries file", context: queries, cause: error)
                }
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                    .filter { !$0.element.trimmingCharacters(in: .whitespaces).isEmpty }
                let answers = try await persona.recall(queries: lines.map { String($0.element) }, slices: slices, limit: limit)
                for ((number, line), hits) in zip(lines, answers) {
                    Output.json(.object([
                        "line": .number(Double(number + 1)), "query": .string(String(line)), "results": .array(hits.map(JSONView.hit)),
                    ]))
                }
                return
            }
            let hits = try await persona.recall(query!, slices: slices, limit: limit)
            if json {
                Output.json(.array(hits.map(JSONView.hit)))
                return
            }
            if hits.isEmpty {
                Output.stdout("no memories of \(persona.name) match \"\(query!)\"")
                return
            }
            for (rank, hit) in hits.enumerated() {
                for line in RecallText.lines(hit, rank: rank + 1, why: why) { Output.stdout(line) }
            }
        }
    }
}
