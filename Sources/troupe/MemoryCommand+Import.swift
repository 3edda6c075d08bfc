import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

extension MemoryCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import memories from a JSONL file, or from mem0, Letta or the MCP memory server (--from).",
            discussion: """
                Each line: {"id"?, "persona", "slice", "content", "importance"?, "tags"?, "created_at"?, "metadata"?}
                (export's extra fields are accepted too). A file with an invalid line imports nothing
                unless --skip-invalid is given; errors name the line and the field. Re-importing a file
                creates no duplicates: records with an id are upserted, the others get a stable id.
                A file can claim anything: unless --keep-source is given, every memory is
                recorded as an import's (provenance by: import, method: imported, trust 2/4)
                whoever the file says wrote or said it, and what it claimed is kept as
                metadata.claimed and metadata.claimed_source.

                --from mem0|letta|mcp-memory reads another system's file (mem0's get_all output or
                export, a Letta agent file .af, the MCP memory server's memory.jsonl) into --persona
                (a Letta agent named as a persona goes to that persona); the source's ids and times
                are kept in metadata, what cannot be mapped is listed, and a second import adds nothing.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSONL file (or the --from system's file).") var file: String
        @Option(help: "Read another system's file: mem0, letta or mcp-memory.") var from: ForeignFormat?
        @Option(help: "The persona (or shared slice) of lines that name none.") var persona: String?
        @Flag(help: "Import the valid lines and report the invalid ones.") var skipInvalid = false
        @Flag(help: "Only validate; write nothing.") var dryRun = false
        @Option(help: "Records per transaction (default from config, 2000).") var batchSize: Int?
        @Flag(help: "Print the summary as JSON.") var json = false
        @Flag(help: "Store the memories without vectors (faster; run `troupe memory reembed` later).") var noEmbed = false
        @Flag(help: ArgumentHelp(
            "You vouch for the file (e.g. restoring your own export): keep each line's `source` and provenance "
                + "(metadata said_by, by, method, conversation, turn) exactly as the file has them. Without it the "
                + "writer is `import`, the provenance an import's (trust 2/4) and the file's claims are kept as "
                + "metadata.claimed_source and metadata.claimed."))
        var keepSource = false

        func validate() throws {
            try FlagRange.check(batchSize, RuntimeConfig.importBatchRange, "--batch-size", setting: "storage.import_batch")
            if let from, skipInvalid || keepSource {
                throw ValidationError("--\(skipInvalid ? "skip-invalid" : "keep-source") is for Troupe's JSONL; with --from \(from.rawValue) "
                    + "every item that can be mapped is imported and the others are listed")
            }
        }

        func run() async throws {
            if let from { return try await runForeign(from) }
            // A runtime without the procedural seeds: the import loads them after it, so that an
            // exported home re-imports its own seeds (same ids and times) instead of meeting fresh copies.
            let service = TroupeService(runtime: try await global.runtime())
            if !noEmbed, let warning = service.embedderWarning { Output.warning(warning) }
            let bar: ProgressBar? = Output.stderrIsTerminal ? ProgressBar() : nil
            var progress: (@Sendable (MemoryImporter.Progress) -> Void)?
            if let bar { progress = { bar.show($0) } }
            let request = ImportRequest(
                file: file, defaultOwner: persona, skipInvalid: skipInvalid, dryRun: dryRun, batchSize: batchSize, embedding: !noEmbed,
                keepSource: keepSource)
            let report = try await service.importMemories(request, progress: progress, .local)
            bar?.finish()

            if json {
                Output.json(JSONView.importReport(report, file: file))
            } else {
                for problem in report.problems {
                    Output.stderr("\(file):\(problem.line): error: " + (problem.field.map { "field '\($0)': " } ?? "") + problem.message)
                }
                if report.invalid > report.problems.count {
                    Output.stderr("… and \(report.invalid - report.problems.count) more invalid lines")
                }
                Output.stdout(Self.summary(report, file: file))
            }
            if report.outcome == .rejected || (report.outcome == .validated && report.invalid > 0) { throw ExitCode(1) }
        }

        static func summary(_ r: MemoryImporter.Report, file: String) -> String {
            let g = ProgressLine.grouped
            switch r.outcome {
            case .rejected:
                return "nothing imported: \(g(r.invalid)) of \(g(r.lines)) lines in \(file) are invalid "
                    + "(fix them, or pass --skip-invalid to import the \(g(r.valid)) valid ones)"
            case .validated:
                return "\(file): \(g(r.valid)) valid, \(g(r.invalid)) invalid of \(g(r.lines)) lines (dry run: nothing written)"
            case .imported:
                let rate = r.seconds > 0 ? Int(Double(r.valid) / r.seconds) : 0
                var text = "imported \(file): \(g(r.written.inserted)) new, \(g(r.written.updated)) updated, "
                    + "\(g(r.written.unchanged)) unchanged"
                if r.invalid > 0 { text += ", \(g(r.invalid)) invalid lines skipped" }
                return text + " in \(String(format: "%.1f", r.seconds))s (\(g(rate)) records/s)"
            }
        }
    }
}

/// Redraws one progress line on stderr, at most ten times a second.
///
/// The line is rendered and written outside the lock; `show` is called from the import's one
/// task, so the draws cannot overtake one another.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw = 0.0
        var drawn = false
    }

    private let state = LockedBox(State())

    func show(_ progress: MemoryImporter.Progress) {
        show(elapsed: progress.elapsed, done: progress.bytesRead >= progress.totalBytes) { ProgressLine.render(progress) }
    }

    /// Redraws with `line()` unless the last draw was under 0.1 s ago (the final one always).
    func show(elapsed: Double, done: Bool, _ line: () -> String) {
        let due = state.withLock { state in
            guard elapsed - state.lastDraw >= 0.1 || done else { return false }
            state.lastDraw = elapsed
            state.drawn = true
            return true
        }
        guard due else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + TerminalText.escaped(line())).utf8))
    }

    func finish() {
        if state.value.drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
