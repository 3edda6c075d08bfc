import ArgumentParser
import Foundation
import TroupeBenchmarks
import TroupeCore

extension BenchCommand {
    struct GraphBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "graph",
            abstract: "Belief graph over formed facts on SQLite: build time, and `--about` latency now and as of a past time.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Formed facts to write.") var facts = 100_000
        @Option(help: "--about queries to time.") var queries = 2000
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            try FlagRange.check(facts, FlagRange.count, "--facts")
            try FlagRange.check(queries, 1...1_000_000, "--queries")
        }

        func run() async throws {
            let result = try await GraphBenchmark(facts: facts, queries: queries).run { Output.stderr($0) }
            if json { Output.json(result.json) } else { Output.stdout(result.text) }
        }
    }
}
