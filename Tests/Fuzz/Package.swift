// swift-tools-version: 6.0
// The fuzz targets (libFuzzer): built by Scripts/fuzz with `-sanitize=fuzzer,address`, never by
// the main build or CI. Each target feeds its parser every input libFuzzer makes; a crash, a
// hang or unbounded memory is a finding. Inputs worth keeping go to Corpus/NAME, which the test
// suite replays (Tests/TroupeConfigTests, TroupeStoreTests, TroupeLLMTests: FuzzCorpus).
import PackageDescription

let package = Package(
    name: "TroupeFuzz",
    dependencies: [.package(name: "Troupe", path: "../..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzPersona", dependencies: ["FuzzSupport", .product(name: "TroupeConfig", package: "Troupe")]),
        .executableTarget(name: "FuzzConfig", dependencies: ["FuzzSupport", .product(name: "TroupeConfig", package: "Troupe")]),
        .executableTarget(name: "FuzzImportLine", dependencies: ["FuzzSupport", .product(name: "TroupeStore", package: "Troupe")]),
        .executableTarget(name: "FuzzSession", dependencies: ["FuzzSupport", .product(name: "TroupeConfig", package: "Troupe")]),
        .executableTarget(name: "FuzzSSE", dependencies: ["FuzzSupport", .product(name: "TroupeLLM", package: "Troupe")]),
    ],
    swiftLanguageModes: [.v6]
)
