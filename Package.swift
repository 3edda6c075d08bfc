// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Troupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "troupe", targets: ["troupe"]),
        .library(name: "TroupeRuntime", targets: ["TroupeRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        // The MemoryStore protocol, its in-memory and SQLite conformances, import and export, and
        // the Redis hot tier.
        .target(name: "TroupeStore", dependencies: [
            "TroupeCore", "CHiredis",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The system BLAS (OpenBLAS through cblas), for the scorer and the embedder.
        .systemLibrary(name: "CBLAS"),
        // Element-wise transformer steps, short-sentence attention and the int8 pre-screen, with
        // AVX2+FMA versions chosen at run time. Optimised in debug builds too: the test suite
        // embeds hundreds of sentences.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Embedders, the in-memory recall index (BLAS scoring, BM25) and hybrid ranking.
        .target(name: "TroupeRetrieval", dependencies: ["TroupeCore", "TroupeStore", "CBLAS", "CKernels"]),
        // The workspace a command runs in: config, personas, store, seeding, doctor.
        .target(name: "TroupeRuntime", dependencies: [
            "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeRetrieval",
        ]),
        // Chat models: the embedded SmolLM2 decoder, OpenAI-compatible HTTP backends, offline.
        .target(name: "TroupeLLM", dependencies: ["TroupeCore", "CKernels"]),
        // Benchmarks and their peers' drivers (not part of the library).
        .target(name: "TroupeBenchmarks", dependencies: ["TroupeLLM", "TroupeCore"]),
        .executableTarget(name: "troupe", dependencies: [
            "TroupeRuntime", "TroupeCore", "TroupeConfig", "TroupeStore", "TroupeRetrieval", "TroupeLLM", "TroupeBenchmarks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "TroupeCoreTests", dependencies: ["TroupeCore"]),
        .testTarget(name: "TroupeConfigTests", dependencies: ["TroupeConfig"],
                    resources: [.copy("Corpus")]),
        .testTarget(name: "TroupeStoreTests", dependencies: ["TroupeStore"]),
        .testTarget(
            name: "TroupeRetrievalTests",
            dependencies: [
                "TroupeRetrieval", "TroupeStore", "TroupeCore",
                // To hold the vector kernels to their portable versions.
                "CKernels",
                // To ask SQLite's own FTS5 tokenizer what the in-memory one must produce.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // The retrieval-quality set, read by `troupe bench quality` and checked by a test.
            exclude: ["Quality"]),
        .testTarget(name: "TroupeRuntimeTests", dependencies: ["TroupeRuntime", "TroupeConfig", "TroupeStore", "TroupeRetrieval", "TroupeCore"]),
        .testTarget(name: "TroupeLLMTests", dependencies: ["TroupeLLM", "TroupeCore"]),
        .testTarget(name: "TroupeCLITests", dependencies: ["TroupeCore", "TroupeStore"]),
    ],
    swiftLanguageModes: [.v6]
)
