// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Troupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "troupe", targets: ["troupe"]),
        .library(name: "TroupeRuntime", targets: ["TroupeRuntime"]),
        // For Tests/Fuzz, the fuzzing package beside this one.
        .library(name: "TroupeConfig", targets: ["TroupeConfig"]),
        .library(name: "TroupeStore", targets: ["TroupeStore"]),
        .library(name: "TroupeLLM", targets: ["TroupeLLM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The OpenAI-compatible HTTP backends (streaming, timeouts, cancellation), and the test
        // suite's misbehaving HTTP server.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The MCP server (`troupe mcp`).
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        // The HTTP API (`troupe serve`).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Metrics: the library emits through swift-metrics; `troupe serve` exports them for
        // Prometheus at /metrics.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Encryption at rest (AES-GCM, SHA-256): the vault.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Value types shared by every module. No I/O.
        .target(name: "TroupeCore"),
        // Persona and runtime configuration with compiler-style diagnostics.
        .target(name: "TroupeConfig", dependencies: [
            "TroupeCore",
            .product(name: "Yams", package: "Yams"),
        ]),
        // hiredis, for the Redis hot tier (module map only: its pkg-config file has a flag SwiftPM refuses).
        .systemLibrary(name: "CHiredis"),
        // libpq (libpq-dev), PostgreSQL's own client, for the PostgreSQL store.
        .systemLibrary(name: "CLibPQ"),
        // The storage contract: its protocols and records, the in-memory conformance, shared-write
        // resolution, import and export, driver-neutral migration and mirroring, and the registry
        // of drivers by URL scheme. No C.
        .target(name: "TroupeStore", dependencies: [
            "TroupeCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The SQLite store (GRDB).
        .target(name: "TroupeSQLite", dependencies: ["TroupeStore", "TroupeCore", .product(name: "GRDB", package: "GRDB.swift")]),
        // The PostgreSQL store (libpq).
        .target(name: "TroupePostgres", dependencies: ["TroupeStore", "TroupeCore", "CLibPQ"]),
        // The Redis hot tier (hiredis) and the managed redis-server.
        .target(name: "TroupeRedis", dependencies: ["TroupeStore", "TroupeCore", "CHiredis"]),
        // Encryption at rest: the master key, the keyring of data keys, and the sealer stores
        // write every record's words through (swift-crypto).
        .target(name: "TroupeVault", dependencies: ["TroupeStore", "TroupeCore", .product(name: "Crypto", package: "swift-crypto")]),
        // libedit (readline interface), for the REPL's line editing and history.
        .systemLibrary(name: "CEditLine"),
        // The system BLAS (OpenBLAS through cblas), for the scorer and the embedder.
        .systemLibrary(name: "CBLAS"),
        // Element-wise transformer steps, short-sentence attention and the int8 pre-screen, with
        // AVX2+FMA versions chosen at run time. Optimised in debug builds too: the test suite
        // embeds hundreds of sentences.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Embedders, the in-memory recall index (BLAS scoring, BM25) and hybrid ranking.
        .target(name: "TroupeRetrieval", dependencies: ["TroupeCore", "TroupeStore", "CBLAS", "CKernels"]),
        // Chat models: the embedded SmolLM2 decoder, OpenAI-compatible HTTP backends, offline.
        .target(name: "TroupeLLM", dependencies: [
            "TroupeCore", "CKernels",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The runtime: the long-lived owner of a home (store, recall index, embedder, hot tier,
        // coordinator, persona actors), its one write path, and doctor.
        .target(name: "TroupeRuntime", dependencies: [
            "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeRetrieval", "TroupeLLM",
            "TroupeVault",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The service layer every front end calls: one method per operation, each with the
        // caller's principal; the table of error codes to exit codes and HTTP statuses.
        .target(name: "TroupeService", dependencies: [
            "TroupeRuntime", "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeRedis", "TroupeRetrieval", "TroupeLLM",
        ]),
        // The MCP server (tools, resources, a prompt) over the service layer.
        .target(name: "TroupeMCP", dependencies: [
            "TroupeService", "TroupeCore", "TroupeRuntime",
            .product(name: "MCP", package: "swift-sdk"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `troupe serve`: the HTTP API over the service layer (Hummingbird).
        .target(name: "TroupeServer", dependencies: [
            "TroupeService", "TroupeCore", "TroupeRuntime", "TroupeStore",
            // MCP over streamable HTTP at /mcp, each session a TroupeMCPServer.
            "TroupeMCP", .product(name: "MCP", package: "swift-sdk"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmarks and their peers' drivers (not part of the library).
        .target(name: "TroupeBenchmarks", dependencies: [
            "TroupeRuntime", "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeRetrieval", "TroupeLLM", "CBLAS",
            "TroupeService", "TroupeServer", "TroupeMCP", "TroupeVault",
            .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "MCP", package: "swift-sdk"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "troupe", dependencies: [
            "TroupeRuntime", "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeRetrieval", "TroupeBenchmarks", "TroupeLLM",
            "TroupeService", "TroupeMCP", "TroupeServer", "CEditLine", "TroupeVault",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "TroupeCoreTests", dependencies: ["TroupeCore"]),
        .testTarget(name: "TroupeConfigTests", dependencies: ["TroupeConfig", "TroupeCore", "TroupeStoreConformance"],
                    resources: [.copy("Corpus"), .copy("SessionCorpus")]),
        // The storage contract's conformance suites, run by each store's tests with its own factory.
        .target(name: "TroupeStoreConformance", dependencies: ["TroupeStore", "TroupeCore", "PoolWatchStart"], path: "Tests/TroupeStoreConformance"),
        // Each driver's stores for tests (a scratch PostgreSQL server, a managed redis-server, SQLite files), off the pool.
        .target(name: "TroupeStoreDriverSupport", dependencies: [
                    "TroupeStore", "TroupeCore", "TroupeStoreConformance", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeVault",
                ],
                path: "Tests/TroupeStoreDriverSupport"),
        // Starts the test process's watch of the cooperative pool (PoolWatch.swift) when asked to.
        .target(name: "PoolWatchStart", path: "Tests/PoolWatchStart"),
        .testTarget(name: "TroupeStoreTests", dependencies: [
            "TroupeStore", "TroupeStoreConformance", "TroupeStoreDriverSupport", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeVault",
        ],
        // Other systems' awkward and broken files, read by path with their expected outcomes.
        exclude: ["ForeignCorpus"]),
        .testTarget(
            name: "TroupeRetrievalTests",
            dependencies: [
                "TroupeRetrieval", "TroupeStore", "TroupeSQLite", "TroupeCore", "TroupeStoreConformance", "TroupeStoreDriverSupport",
                // To hold the vector kernels to their portable versions.
                "CKernels",
                // To ask SQLite's own FTS5 tokenizer what the in-memory one must produce.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // The retrieval-quality set, read by `troupe bench quality` and checked by a test.
            exclude: ["Quality"]),
        .testTarget(name: "TroupeRuntimeTests", dependencies: [
            "TroupeRuntime", "TroupeConfig", "TroupeStore", "TroupeRetrieval", "TroupeCore", "TroupeStoreConformance",
            "TroupeStoreDriverSupport", "TroupeSQLite", "TroupePostgres", "TroupeRedis",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // A service on a temporary home, for the front ends' tests.
        .target(name: "TroupeServiceTestSupport", dependencies: [
                    "TroupeService", "TroupeRuntime", "TroupeConfig", "TroupeCore",
                    // A tool call's text, for the MCP tests over memory and over HTTP.
                    .product(name: "MCP", package: "swift-sdk"),
                ],
                path: "Tests/TroupeServiceTestSupport"),
        .testTarget(name: "TroupeServiceTests", dependencies: [
            "TroupeService", "TroupeServiceTestSupport", "TroupeCore", "TroupeStore",
            // Consolidation's tests: the runtime's summaries, and a model that answers fixed text.
            "TroupeRuntime", "TroupeLLM",
        ]),
        .testTarget(name: "TroupeMCPTests", dependencies: [
            "TroupeMCP", "TroupeService", "TroupeServiceTestSupport", "TroupeCore",
            // `eventually`, to see a session's event stream let go of.
            "TroupeStoreConformance",
            .product(name: "MCP", package: "swift-sdk"),
        ]),
        .testTarget(name: "TroupeServerTests", dependencies: [
            "TroupeServer", "TroupeService", "TroupeServiceTestSupport", "TroupeCore", "TroupeStore", "TroupeLLM", "TroupeRuntime",
            // `eventually`, to see a session's event stream let go of.
            "TroupeStoreConformance",
            // The SDK's own HTTP client, against /mcp.
            .product(name: "MCP", package: "swift-sdk"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "TroupeCLITests", dependencies: [
                        "TroupeCore", "TroupeStore", "TroupeStoreConformance",
                        "TroupeStoreDriverSupport", "TroupeSQLite", "TroupePostgres", "TroupeRedis", "TroupeVault",
                        // JSON answers read by member (`answer["key"]?.text`).
                        "TroupeServiceTestSupport",
                        // `troupe serve`'s test calls it over a socket.
                        .product(name: "AsyncHTTPClient", package: "async-http-client"),
                        .product(name: "NIOCore", package: "swift-nio"),
                    ],
                    // The Python MCP client's script and llama.cpp's server's, run with the project's .venv (Scripts/setup --tests);
                    // files in mem0's, Letta's and the MCP memory server's formats, read by path.
                    exclude: ["MCPClient", "LlamaServer", "ForeignFiles"]),
        .testTarget(
            name: "TroupeLLMTests",
            dependencies: [
                "TroupeLLM", "TroupeCore",
                // The test suite's own OpenAI-compatible server, which misbehaves on purpose.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("SSECorpus")]),
    ],
    swiftLanguageModes: [.v6]
)
