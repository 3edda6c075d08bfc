import ArgumentParser
import Foundation
import TroupeBenchmarks
import TroupeRuntime

extension BenchCommand {
    struct RedisBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "redis", abstract: "The Redis hot tier against SQLite alone: writes, reads, the recall cache, a concurrent load.",
            discussion: """
                Two temporary homes: one with a managed redis-server (unix socket, through Troupe's hiredis adapter), one with \
                `redis: off`. Both run the same workload; the managed server is stopped and the homes removed at the end.
                """)
        @Option(help: "Personas writing and reading.") var personas = 8
        @Option(help: "Working notes per persona before the reads.") var notes = 40
        @Option(help: "Episodes per persona before the reads.") var episodes = 200
        @Option(help: "Working-memory reads (and as many episode reads).") var reads = 2000
        @Option(help: "Semantic memories per persona for the recalls (0 skips the recalls).") var facts = 2000
        @Option(help: "Recalls over the semantic slice.") var recalls = 400
        @Option(help: "Share of the recalls that repeat an earlier query.") var repeatShare = 0.2
        @Option(help: "Items of the concurrent load.") var loadItems = 10_000
        @Option(help: "Commands of each pipelined run.") var pipelined = 100_000
        @Flag(help: "Print one JSON object per line.") var json = false

        func validate() throws {
            try FlagRange.check(personas, 1...256, "--personas")
            for (value, flag) in [(notes, "--notes"), (episodes, "--episodes"), (facts, "--facts"), (recalls, "--recalls")] {
                try FlagRange.check(value, 0...1_000_000, flag)
            }
            try FlagRange.check(reads, 1...1_000_000, "--reads")
            try FlagRange.check(loadItems, FlagRange.count, "--load-items")
            try FlagRange.check(pipelined, 1000...10_000_000, "--pipelined")
            guard loadItems >= personas else {
                throw ValidationError("counts must be positive (--load-items at least --personas, --pipelined at least 1000)")
            }
            guard (0...1).contains(repeatShare) else { throw ValidationError("--repeat-share: between 0 and 1") }
        }

        func run() async throws {
            var bench = RedisBenchmark()
            bench.personas = personas
            bench.notes = notes
            bench.episodes = episodes
            bench.reads = reads
            bench.facts = facts
            bench.recalls = recalls
            bench.repeatShare = repeatShare
            bench.loadItems = loadItems
            bench.pipelined = pipelined
            let result = try await bench.run { Output.stderr($0) }
            if json {
                for row in result.json { Output.json(row) }
            } else {
                Output.stdout(result.text)
            }
        }
    }
}
