import ArgumentParser
import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeBenchmarks
import TroupeRuntime

/// `troupe bench`: benchmarks, which drive the runtime (and its peers) directly, not through the
/// service layer.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure Troupe on this machine (prints figures).",
        subcommands: [Store.self, Retrieval.self, Quality.self, CoordinatorBench.self, RedisBench.self, Turn.self, LLMBench.self, PostgresBench.self, Serve.self,
                      Load.self, Formation.self, Dashboard.self, GraphBench.self])

    struct Turn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a conversation turn costs besides the model, and the embedded model's time to first token.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Memories of the persona that answers.") var memories = 100_000
        @Option(help: "Turns to time.") var turns = 200
        @Option(help: "redis.mode of the temporary home: managed or off.") var redis = "managed"
        @Option(help: "Turns with the embedded model (0 skips them).") var embeddedTurns = 5

        func validate() throws {
            try FlagRange.check(memories, 1...2_000_000, "--memories")
            try FlagRange.check(turns, 1...100_000, "--turns")
            try FlagRange.check(embeddedTurns, 0...1000, "--embedded-turns")
            guard ["managed", "off"].contains(redis) else { throw ValidationError("--redis: managed or off") }
        }

        func run() async throws {
            var bench = ConversationBenchmark()
            (bench.memories, bench.turns, bench.redis, bench.embeddedTurns) = (memories, turns, redis, embeddedTurns)
            Output.stdout(try await bench.run { Output.stderr($0) }.text)
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall, hot-tier read and cancel latency in one long-lived runtime, quiet and with both cores busy.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Memories of the persona.") var memories = 10_000
        @Option(help: "Recalls and hot-tier reads timed per phase.") var samples = 200
        @Option(help: "Generations cancelled per phase.") var cancels = 40
        @Option(help: "CPU hog processes beside the model in the loaded phase.") var hogs = 1

        func validate() throws {
            try FlagRange.check(memories, 1...2_000_000, "--memories")
            try FlagRange.check(samples, 1...100_000, "--samples")
            try FlagRange.check(cancels, 1...10_000, "--cancels")
            try FlagRange.check(hogs, 0...64, "--hogs")
        }

        func run() async throws {
            var bench = LoadBenchmark()
            (bench.memories, bench.samples, bench.cancels, bench.hogs) = (memories, samples, cancels, hogs)
            Output.stdout(try await bench.run { Output.stderr($0) }.text)
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall over HTTP vs in process under concurrent callers, an MCP tool call's round trip, a streamed turn's first piece.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Memories of the persona.") var memories = 100_000
        @Option(help: "Recalls per side.") var recalls = 2000
        @Option(help: "Concurrent callers (HTTP connections).") var connections = 16
        @Option(help: "Streamed turns per side.") var turns = 100
        @Option(help: "MCP tool calls.") var toolCalls = 500

        func validate() throws {
            try FlagRange.check(memories, 1...2_000_000, "--memories")
            try FlagRange.check(recalls, 1...1_000_000, "--recalls")
            try FlagRange.check(connections, 1...256, "--connections")
            try FlagRange.check(turns, 1...10_000, "--turns")
            try FlagRange.check(toolCalls, 1...100_000, "--tool-calls")
        }

        func run() async throws {
            var bench = ServeBenchmark()
            (bench.memories, bench.recalls, bench.connections, bench.turns, bench.toolCalls) = (memories, recalls, connections, turns, toolCalls)
            Output.stdout(try await bench.run { Output.stderr($0) }.text)
        }
    }

    struct Dashboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What each read of the dashboard costs over HTTP on a persona with many memories (pages of beliefs, counts, recall, health).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Semantic memories of the persona.") var memories = 100_000
        @Option(help: "How many of them are superseded once.") var superseded = 1000
        @Option(help: "Calls per read.") var repeats = 20

        func validate() throws {
            try FlagRange.check(memories, 1...2_000_000, "--memories")
            try FlagRange.check(superseded, 0...memories, "--superseded")
            try FlagRange.check(repeats, 1...10_000, "--repeats")
        }

        func run() async throws {
            var bench = DashboardBenchmark()
            (bench.memories, bench.superseded, bench.repeats) = (memories, superseded, repeats)
            Output.stdout(try await bench.run { Output.stderr($0) }.text)
        }
    }

    struct Formation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Whether what personas remember is true: scripted conversations, scored against what the person said.",
            discussion: """
                Each conversation (a YAML file, see Tests/FormationBench/README.md) is played in a fresh home with each \
                backend; prints stated-fact recall, update accuracy, precision and corruption per backend.
                """)
        @Option(help: "The folder of conversations.") var corpus = "Tests/FormationBench"
        @Option(help: "The runtime configuration (its personas and shared slices; the home, Redis and model are the benchmark's).")
        var config = "Config/troupe.yaml"
        @Option(help: "Backends, comma-separated: offline, embedded, openai (with --base-url).") var backends = "offline,embedded"
        @Option(help: "The OpenAI-compatible server for the openai backend.") var baseURL: String?
        @Option(help: "The longest reply, in tokens.") var maxTokens = 64
        @Option(help: "Only conversations whose file name contains this.") var only: String?
        @Flag(help: "Also list what went wrong.") var misses = false
        @Flag(help: "Keep each conversation's home, to look at what the personas remember (the paths are logged).") var keepHomes = false
        @Flag(help: "JSON instead of a table.") var json = false

        func validate() throws {
            try FlagRange.check(maxTokens, 1...4096, "--max-tokens")
            let known = ["offline", "embedded", "openai"]
            for name in backends.split(separator: ",") where !known.contains(String(name)) {
                throw ValidationError("--backends: '\(name)' is not one of \(known.joined(separator: ", "))")
            }
        }

        func run() async throws {
            var bench = FormationBenchmark(corpus: URL(fileURLWithPath: corpus), config: URL(fileURLWithPath: config))
            bench.backends = backends.split(separator: ",").map(String.init)
            (bench.baseURL, bench.maxTokens, bench.only, bench.keepHomes) = (baseURL, maxTokens, only, keepHomes)
            let scores = try await bench.run { Output.stderr($0) }
            if json { Output.json(FormationBenchmark.json(scores)) } else { Output.stdout(FormationBenchmark.text(scores, misses: misses)) }
        }
    }

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import throughput, put and lexical recall latency, size and peak memory of the SQLite store.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Records to import.") var records = 100_000
        @Option(help: "Single puts to time.") var puts = 2000
        @Option(help: "Recalls to time.") var recalls = 1000
        @Flag(help: "Also run it on an encrypted store (troupe vault), after the plain one, and time a data-key rotation.") var vault = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            try FlagRange.check(records, FlagRange.count, "--records")
            try FlagRange.check(puts, 1...1_000_000, "--puts")
            try FlagRange.check(recalls, 1...1_000_000, "--recalls")
        }

        func run() async throws {
            for encrypted in vault ? [false, true] : [false] {
                let result = try await StoreBenchmark(records: records, puts: puts, recalls: recalls, encrypted: encrypted).run { Output.stderr($0) }
                if json { Output.json(result.json) } else { Output.stdout(result.text) }
            }
        }
    }

    struct Quality: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recall@5/@10 of lexical, dense and hybrid rankings on the retrieval-quality set.")
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Folder with memories.jsonl and questions.jsonl.", valueName: "dir"))
        var data = "Tests/TroupeRetrievalTests/Quality"
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Also list the questions whose first answer moved between the plain weighted sum and the configured ranking.")
        var moves = false

        func run() async throws {
            let workspace = try await global.runtime()
            if let warning = workspace.embedderChoice.warning { Output.warning(warning) }
            let folder = URL(fileURLWithPath: data)
            let personas = Dictionary(uniqueKeysWithValues: workspace.personas.map { ($0.name.rawValue, workspace.readableOwners(of: $0)) })
            let embedder = try await workspace.embedder()?.embedder
            let benchmark = QualityBenchmark(
                memories: folder.appendingPathComponent("memories.jsonl"), questions: folder.appendingPathComponent("questions.jsonl"),
                embedder: embedder, knownOwners: workspace.knownOwners, readable: { personas[$0] ?? [] })
            let variants = QualityBenchmark.variants(defaults: workspace.recallWeights, options: RecallOptions(workspace.configuration.runtime.retrieval))
            var places: [String: [String: Int]] = [:]
            let rows = try await benchmark.run(variants: variants, log: { Output.stderr($0) }) { variant, question, rank in
                places[question.id, default: [:]][variant] = rank ?? 99
            }
            if moves {
                for (id, ranks) in places.sorted(by: { $0.key < $1.key }) {
                    let before = ranks["plain weighted sum (0.5/0.3/0.1/0.1)"] ?? 99, after = ranks["hybrid, weighted sum"] ?? 99
                    guard before != after else { continue }
                    func place(_ r: Int) -> String { r > 10 ? "-" : "\(r)" }
                    Output.stderr("moved \(id): \(place(before)) -> \(place(after))")
                }
            }
            if json {
                for row in rows {
                    Output.json(.object([
                        "ranking": .string(row.variant), "kind": .string(row.kind), "questions": .number(Double(row.questions)),
                        "recall_at_5": .number(row.recallAt5), "recall_at_10": .number(row.recallAt10), "mrr": .number(row.mrr),
                    ]))
                }
            } else {
                Output.stdout(QualityBenchmark.table(rows, model: embedder?.modelID))
            }
        }
    }

    struct Retrieval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dense scorer shapes, embedding throughput and end-to-end recall at 100K memories.",
            discussion: "Scripts/bench retrieval runs this beside the FAISS and numpy peers and prints the ratios.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Matrix rows to score (comma-separated).") var rows = "10000,100000,1000000"
        @Option(help: "Query batch sizes (comma-separated).") var queries = "1,32,256"
        @Option(help: "Memories for the end-to-end recall part.") var records = 100_000
        @Option(help: "Recalls to time.") var recalls = 1000
        @Option(help: ArgumentHelp(
            "Which parts to run (comma-separated): shapes, embedding, recall. Peak RSS is the process's, so Scripts/bench runs recall alone.",
            valueName: "parts")) var parts = "shapes,embedding,recall"
        @Flag(help: "Print one JSON object per line.") var json = false

        func validate() throws {
            let unknown = Set(parts.split(separator: ",").map(String.init)).subtracting(["shapes", "embedding", "recall"])
            if !unknown.isEmpty { throw ValidationError("unknown part '\(unknown.sorted().joined(separator: "', '"))' (parts: shapes, embedding, recall)") }
            try FlagRange.check(records, FlagRange.count, "--records")
            try FlagRange.check(recalls, 1...1_000_000, "--recalls")
            try FlagRange.check(list: rows, 1...10_000_000, "--rows")
            try FlagRange.check(list: queries, 1...4096, "--queries")
        }

        func run() async throws {
            let workspace = try await global.runtime()
            var benchmark = RetrievalBenchmark(
                rows: rows.split(separator: ",").compactMap { Int($0) }, queries: queries.split(separator: ",").compactMap { Int($0) },
                records: records, recalls: recalls)
            benchmark.weights = workspace.recallWeights
            benchmark.options = RecallOptions(workspace.configuration.runtime.retrieval)
            func emit(_ object: [String: JSONValue], _ text: String) {
                if json { Output.json(.object(object)) } else { Output.stdout(text) }
            }
            let chosen = Set(parts.split(separator: ",").map(String.init))
            if chosen.contains("shapes") {
                let (peak, shapes) = benchmark.scorer { Output.stderr($0) }
                emit(["kind": .string("sgemm_peak"), "gflops": .number(peak.rounded())], String(format: "sgemm peak: %.1f GFLOP/s (2048³)", peak))
                for f in shapes {
                    emit([
                        "kind": .string("scorer"), "n": .number(Double(f.rows)), "queries": .number(Double(f.queries)), "k": .number(Double(f.k)),
                        "batch_ms": .number((f.batchMilliseconds * 1000).rounded() / 1000), "sgemm_ms": .number((f.sgemmMilliseconds * 1000).rounded() / 1000),
                        "gflops": .number(f.gflops.rounded()), "gb_per_s": .number((f.gigabytesPerSecond * 10).rounded() / 10),
                    ], String(format: "scorer n=%-8d q=%-4d k=10: %9.3f ms per batch (sgemm part %8.3f ms, %5.1f GFLOP/s = %3.0f%% of peak, %5.1f GB/s)",
                              f.rows, f.queries, f.batchMilliseconds, f.sgemmMilliseconds, f.gflops, 100 * f.gflops / peak, f.gigabytesPerSecond))
                    if let screened = f.screenedMilliseconds, let recall = f.screenRecall {
                        emit([
                            "kind": .string("screen"), "n": .number(Double(f.rows)), "k": .number(Double(f.k)),
                            "batch_ms": .number((screened * 1000).rounded() / 1000), "recall": .number(recall),
                            "proven": .number(Double(f.screenProven)), "checks": .number(Double(f.screenChecks)),
                        ], String(format: "  int8 screen n=%-8d q=1   k=10: %9.3f ms per query, recall@10 against exact %.3f (%d of %d answers proven, the rest rescored exactly)",
                                  f.rows, screened, recall, f.screenProven, f.screenChecks))
                    }
                }
            }
            guard let embedder = try await workspace.embedder()?.embedder else { return }
            if chosen.contains("embedding"), let minilm = embedder as? MiniLMEmbedder {
                let e = try RetrievalBenchmark.embedding(minilm)
                emit([
                    "kind": .string("embedding"), "sentences_per_s": .number(e.sentencesPerSecond.rounded()), "gflops": .number(e.gflops.rounded()),
                    "tokens_per_sentence": .number((e.tokens * 10).rounded() / 10),
                ], String(format: "embedding: %.0f sentences/s (batch of 256, %.1f tokens each), %.1f GFLOP/s", e.sentencesPerSecond, e.tokens, e.gflops))
            } else if let warning = workspace.embedderChoice.warning {
                Output.warning(warning)
            }
            guard chosen.contains("recall") else { return }
            for spread in [RetrievalBenchmark.Spread.allReadable, .team] {
                let r = try await benchmark.endToEnd(embedder: embedder, spread: spread) { Output.stderr($0) }
                emit([
                    "kind": .string("recall"), "records": .number(Double(records)), "spread": .string(spread.rawValue),
                    "model": .string(embedder.modelID), "load_s": .number((r.load * 100).rounded() / 100),
                    "p50_ms": .number(r.recall.p50 * 1000), "p99_ms": .number(r.recall.p99 * 1000), "peak_rss_bytes": .number(Double(r.peakRSS)),
                ], String(format: "recall at %@ memories, %@ (%@, query embedded each time, top 10): p50 %.2f ms  p99 %.2f ms  (index load %.2f s, peak RSS %@)",
                          ProgressLine.grouped(records), spread.rawValue, embedder.modelID, r.recall.p50 * 1000, r.recall.p99 * 1000, r.load,
                          ByteCount.format(r.peakRSS)))
            }
        }
    }
}
