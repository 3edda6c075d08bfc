import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRetrieval
import TroupeRuntime
import TroupeService

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
        @Flag(help: "Search the archive (episodes past the persona's retention that were never recalled) instead.") var archive = false
        @Flag(help: "Also recall from the mirror (storage.mirror) and report on stderr where its results differ.") var shadow = false
        @Option(help: ArgumentHelp("Answer each line of this file as a query (JSONL output).", valueName: "file")) var queries: String?
        @Argument(help: "The query.") var query: String?

        func validate() throws {
            if (query == nil) == (queries == nil) { throw ValidationError("give either a QUERY or --queries FILE") }
            if archive, queries != nil { throw ValidationError("--archive searches with one QUERY, not --queries") }
            try FlagRange.check(limit, RuntimeConfig.limitRange, "--limit", setting: "retrieval.default_limit")
        }

        func run() async throws {
            let runtime = try await global.memoryRuntime()
            let persona = try await runtime.persona(persona)
            let slices = slice.isEmpty ? nil : slice
            if let warning = runtime.embedderChoice.warning { Output.warning(warning) }
            // A file of queries (a benchmark's, an evaluation's) and the shadow read on the mirror are
            // operator plumbing on the runtime itself; one query goes through the service below.
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
            // Through the service layer, as the local operator (what `troupe mcp` and the HTTP API call too).
            let hits = try await TroupeService(runtime: runtime).recall(persona: persona.name.rawValue, query: query!, slices: slices, limit: limit, archive: archive, .local)
            if shadow { try await shadowRead(runtime, primary: hits, slices: slices) }
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

        /// The same recall on the mirror, compared with the primary's answer. Records of equal
        /// score may come in another order (ties fall to each store's own row order).
        private func shadowRead(_ runtime: Runtime, primary hits: [RecallHit], slices: [SliceKind]?) async throws {
            let mirror = try await Runtime.opened(configuration: try runtime.mirrorConfiguration())
            defer { Task { await mirror.shutdown() } }
            let shadowHits = try await mirror.persona(persona).recall(query!, slices: slices, limit: limit)
            func ranked(_ hits: [RecallHit]) -> [String] {
                hits.sorted { ($0.score, $1.record.id) > ($1.score, $0.record.id) }.map(\.record.id)
            }
            let (primary, shadowed) = (ranked(hits), ranked(shadowHits))
            if primary == shadowed {
                Output.stderr("shadow read: the mirror gives the same \(primary.count) results in the same order")
                return
            }
            let onlyPrimary = primary.filter { !shadowed.contains($0) }, onlyMirror = shadowed.filter { !primary.contains($0) }
            var parts: [String] = []
            if !onlyPrimary.isEmpty { parts.append("only in the primary: \(onlyPrimary.joined(separator: ", "))") }
            if !onlyMirror.isEmpty { parts.append("only in the mirror: \(onlyMirror.joined(separator: ", "))") }
            if parts.isEmpty, let rank = zip(primary, shadowed).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                parts.append("the order differs from rank \(rank + 1)")
            }
            Output.warning("shadow read: the mirror differs (\(parts.joined(separator: "; ")))")
        }
    }
}
