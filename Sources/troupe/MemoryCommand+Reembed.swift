import ArgumentParser
import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeRuntime

extension MemoryCommand {
    /// `memory reembed`: operator plumbing on the runtime itself, not through the service layer (it
    /// rewrites every record's vector, as no front end but the local operator's would).
    struct Reembed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Embed every memory that has no vector of the configured model.",
            discussion: """
                Run it after changing the embedding model, or after an import with --no-embed. Vectors
                of another model are replaced, never scored together with the new ones. Each batch is
                committed on its own: an interrupted run loses nothing and the next one resumes.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            let runtime = try await global.memoryRuntime()
            if let warning = runtime.embedderChoice.warning { Output.warning(warning) }
            guard let backfill = try await runtime.backfillVectors() else {
                throw TroupeError(.unavailable, "no embedder is configured (embedder.fallback is none and the model is missing)")
            }
            let (count, seconds) = try await Self.embed(backfill)
            let model = try await runtime.embedder()?.modelID ?? "?"
            if json {
                Output.json(.object(["embedded": .number(Double(count)), "model": .string(model), "seconds": .number(seconds)]))
            } else {
                Output.stdout("embedded \(ProgressLine.grouped(count)) memories with \(model) in \(String(format: "%.1f", seconds))s")
            }
        }

        /// Runs a backfill with a progress line on a terminal; returns the count and seconds.
        static func embed(_ backfill: VectorBackfill) async throws -> (Int, Double) {
            let start = DispatchTime.now()
            let bar: ProgressBar? = Output.stderrIsTerminal ? ProgressBar() : nil
            let count = try await backfill.run { p in
                bar?.show(elapsed: p.elapsed, done: p.done >= p.total) {
                    ProgressLine.render(fraction: p.total > 0 ? Double(p.done) / Double(p.total) : 1, count: p.done, noun: "embedded", elapsed: p.elapsed)
                }
            }
            bar?.finish()
            return (count, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        }
    }
}
