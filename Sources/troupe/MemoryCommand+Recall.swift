import ArgumentParser
import Foundation
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
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let workspace = try await global.memoryWorkspace()
            let persona = try await workspace.coordinator().persona(persona)
            let slices = slice.isEmpty ? nil : slice
            if let warning = workspace.embedderChoice.warning { Output.warning(warning) }
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
                let r = hit.record
                let day = Timestamp.format(r.createdAt).prefix(10)
                Output.stdout("\(rank + 1). [\(String(format: "%.3f", hit.score))] \(r.owner)/\(r.slice.rawValue)  \(r.id)  \(day)")
                Output.stdout("   \(r.content.replacingOccurrences(of: "\n", with: "\n   "))")
                if why { Output.stdout("   why: " + hit.components.map(Self.explain).joined(separator: " + ")) }
            }
        }

        /// `45s`, `12m`, `5.2h`, `3.1d`.
        static func age(_ seconds: Double) -> String {
            switch seconds {
            case ..<60: return "\(Int(seconds))s"
            case ..<3600: return "\(Int(seconds / 60))m"
            case ..<86_400: return String(format: "%.1fh", seconds / 3600)
            default: return String(format: "%.1fd", seconds / 86_400)
            }
        }

        static func explain(_ c: ScoreComponent) -> String {
            let raw: String
            switch c.name {
            case "lexical": raw = "bm25 \(String(format: "%.2f", c.raw))"
            case "semantic": raw = "cosine \(String(format: "%.3f", c.raw))"
            case "recency": raw = "age \(Self.age(c.raw))"
            case "context": raw = c.source.map { "from \($0)" } ?? "no neighbour"
            case "date": raw = c.raw == 0 ? "on the date named" : "\(Self.age(c.raw)) from the date named"
            default: raw = "raw \(String(format: "%.2f", c.raw))"
            }
            return "\(c.name) \(String(format: "%.3f", c.value))×\(String(format: "%.2f", c.weight)) (\(raw))"
        }
    }
}
