import ArgumentParser
import Foundation
import TroupeBenchmarks
import TroupeCore
import TroupePostgres
import TroupeSQLite
import TroupeStore

extension BenchCommand {
    struct PostgresBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "postgres",
            abstract: "Writes/s and p99 from 1 and 4 processes, SQLite vs PostgreSQL, and cross-process freshness on PostgreSQL.",
            discussion: "Starts a scratch PostgreSQL server of the machine's installation unless --url names one.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Committed writes per process.") var writes = 1000
        @Option(help: "Records with vectors `migrate` copies to PostgreSQL (0 skips it).") var migrateRecords = 200_000
        @Option(help: "A PostgreSQL server to use (postgres://user@host:port/db); the benchmark works in schemas of its own.")
        var url: String?
        // A worker process (started by the benchmark itself).
        @Option(help: .hidden) var store: String?
        @Option(help: .hidden) var schema: String?
        @Option(help: .hidden) var prefix = "p0"
        @Option(help: .hidden) var startAt: Double = 0
        @Option(help: .hidden) var read: Int?

        func validate() throws {
            try FlagRange.check(writes, 1...1_000_000, "--writes")
            try FlagRange.check(migrateRecords, 0...5_000_000, "--migrate-records")
        }

        func run() async throws {
            if let store, let read {
                let opened = try PostgresStore(location: PostgresLocation(url: store, schema: schema), connections: 1)
                let found = try await PostgresBenchmark.reader(store: opened, writes: read)
                Output.stdout(found.map { String($0) }.joined(separator: "\n"))
                return
            }
            if let store {
                let opened: any MemoryStore = store.hasPrefix("postgres")
                    ? try PostgresStore(location: PostgresLocation(url: store, schema: schema), connections: 1)
                    : try SQLiteStore(path: store)
                let samples = try await PostgresBenchmark.worker(store: opened, writes: writes, prefix: prefix, startAt: startAt)
                Output.stdout(samples.map { String($0) }.joined(separator: "\n"))
                return
            }
            var bench = PostgresBenchmark()
            (bench.writes, bench.url, bench.migrateRecords) = (writes, url, migrateRecords)
            let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            Output.stdout(try await bench.run(spawn: { arguments in try await Self.worker(binary, arguments) }) { Output.stderr($0) })
        }

        /// Runs `troupe bench postgres ARGS…` and reads the samples it prints. The wait is on a
        /// thread of its own: on the cooperative pool's two threads, only two of four workers
        /// would be started and read at once.
        static func worker(_ binary: String, _ arguments: [String]) async throws -> [Double] {
            try await offThePool("troupe.bench.worker") { try runWorker(binary, arguments) }
        }

        private static func runWorker(_ binary: String, _ arguments: [String]) throws -> [Double] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["bench", "postgres"] + arguments
            let out = Pipe(), err = Pipe()
            (process.standardOutput, process.standardError) = (out, err)
            try process.run()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            let errors = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TroupeError(.unavailable, "a benchmark worker failed: \(String(decoding: errors, as: UTF8.self).suffix(500))")
            }
            return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        }
    }
}
